package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/karma"
	"github.com/creditgate/creditgate/engine/keyindex"
	"github.com/creditgate/creditgate/engine/projection"
	"github.com/creditgate/creditgate/engine/store"
)

// Scorer is the KARMA seam. Score must return within a bounded time and
// never fail; Status describes the dependency for health. Implementations
// must be safe for concurrent use.
type Scorer interface {
	Score(ctx context.Context, agentID string) karma.Score
	Status() karma.Status
}

// Engine executes commands and answers queries. Safe for concurrent use.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	clock  Clock
	scorer Scorer

	j        *journal.Journal // the embedded journal's counters; nil when cfg.Store is set
	store    store.Store      // where events go: the journal or cfg.Store (see follow.go)
	queue    *commandQueue    // commands waiting for the committer (commitLoop)
	recovery journal.RecoveryReport
	// lost holds the entities whose first event recovery lost (key kind +
	// "\x00" + id); set once by Open, read-only afterwards.
	lost map[string]journal.LostEntity

	// mu guards the folded state and the command bookkeeping: models, seq,
	// keys, failed, closed, stale and inflight. storeDown is atomic; the
	// fields after inflight are set once by Open or synchronize themselves.
	mu     sync.Mutex
	models models // every read model (models.go)
	seq    uint64
	keys   *keyIndex
	failed error
	closed bool
	stale  bool // folded state may hold events the store did not commit; reload before use
	// storeDown (shared store only): the store failed; commands and reads
	// answer 503 at once until followLoop's probe reaches it (follow.go).
	storeDown atomic.Bool

	// inflight is closed when the batch being committed is resolved; nil
	// while none is. The committer folds a batch before its commit and
	// releases mu for the commit's wait, so nobody may answer from the
	// state meanwhile: read waits for it (see read).
	inflight chan struct{}

	opened   time.Time
	scans    scanGate        // deep history scans: bounded, cancelled at shutdown
	life     context.Context // cancelled by Close: stops the loops and a batch's Begin
	end      context.CancelFunc
	sweeping sync.WaitGroup
	stats    stats
}

// Request carries what every mutation needs besides its own fields.
type Request struct {
	ActorID        string
	CorrelationID  string // "" = a new one
	IdempotencyKey string // client key; "" = none
	RequestHash    string // fingerprint of the client request, for key conflicts
}

// Result is the durable outcome of a command: its events, primary first.
type Result struct {
	Events []*event.Envelope
	// Payloads holds each event's payload as its typed value (event.Credit,
	// event.Agent, event.Approval, event.Decision, …; payloads.go), index
	// for index with Events, so a caller renders without decoding JSON
	// again: the rule's own values for a new transaction, decoded once by
	// the engine for a replayed one.
	Payloads []any
	Replayed bool // an earlier transaction with the same key was returned
}

// Primary is the command's first event.
func (r Result) Primary() *event.Envelope { return r.Events[0] }

// Open opens the journal, replays it and starts the expiry timer.
func Open(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("engine: config: %w", err)
	}
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg: cfg, log: cfg.Logger, clock: cfg.Clock, scorer: cfg.Scorer,
		models: newModels(cfg),
		queue:  newCommandQueue(),
		opened: time.Now(),
	}
	e.keys = newKeyIndex(e.keyIndexConfig(nil, keyindex.Meta{}))
	e.life, e.end = context.WithCancel(context.Background())
	start := time.Now()
	s := cfg.Store
	if s == nil {
		j, err := e.openJournal()
		if err != nil {
			return nil, err
		}
		s = j
	}
	// A store the caller opened (cfg.Store) is the caller's to close.
	closeOwn := func() {
		if cfg.Store == nil {
			_ = s.Close()
		}
		_ = e.keys.close()
	}
	if err := checkSettings(s, cfg); err != nil {
		closeOwn()
		return nil, err
	}
	e.store = s
	// Fold what the store holds beyond what recovery replayed: everything
	// for a shared store, nothing for the journal.
	e.mu.Lock()
	err := e.followLocked()
	e.mu.Unlock()
	if err != nil {
		closeOwn()
		return nil, err
	}
	if cfg.Store != nil {
		e.recovery = journal.RecoveryReport{Path: "", Events: e.seq, LastSeq: e.seq, Clean: true}
		e.stats.replayEvents = e.seq
		e.log.Info("event store replayed", "events", e.seq, "shared", s.Shared())
	}
	e.stats.replayDuration = time.Since(start)
	e.sweeping.Add(3)
	go e.commitLoop()
	go e.sweepLoop()
	go e.followLoop()
	return e, nil
}

// openJournal opens and replays the embedded JSONL journal.
func (e *Engine) openJournal() (*journal.Store, error) {
	cfg := e.cfg
	if cfg.Journal.Logger == nil {
		cfg.Journal.Logger = cfg.Logger
	}
	start := time.Now()
	e.openKeyIndex()
	j, rep, err := journal.Open(cfg.Journal, e.replay)
	if err != nil {
		_ = e.keys.close()
		return nil, err
	}
	if !e.keys.endOpen() {
		e.log.Warn("idempotency index does not match the journal; rebuilding it from the journal", "path", e.keys.disk.Path())
		err := e.keys.rebuild(func(fn func(ev *event.Envelope) bool) error {
			return j.Iterate(0, func(_ []byte, ev *event.Envelope) bool { return fn(ev) })
		})
		if err != nil {
			_ = j.Close()
			_ = e.keys.close()
			return nil, fmt.Errorf("engine: rebuild idempotency index: %w", err)
		}
	}
	e.j, e.recovery, e.seq = j, rep, rep.LastSeq
	e.stats.replayEvents = rep.Events
	e.lost = make(map[string]journal.LostEntity, len(rep.Lost))
	for _, l := range rep.Lost {
		e.lost[l.Kind+"\x00"+l.ID] = l
	}
	if len(rep.Lost) > 0 {
		e.log.Warn("journal recovery left events out of the replay: their entity's first event was lost",
			"dependents", rep.DependentCount(), "entities", len(rep.Lost), "quarantine_file", rep.QuarantineFile)
	}
	e.log.Info("journal replayed", "path", cfg.Journal.Path, "events", rep.Events, "last_seq", rep.LastSeq,
		"duration", time.Since(start), "clean", rep.Clean)
	return journal.NewStore(j, rep.LastSeq), nil
}

// QuarantinedBody is the body of an entity_quarantined refusal.
type QuarantinedBody struct {
	Kind       string `json:"entity_kind"`
	ID         string `json:"entity_id"`
	LostIn     string `json:"lost_in"`
	Dependents int    `json:"dependents_left_out"`
}

// unknown refuses a command or read naming an entity the state does not
// hold (see lostEntities.unknown).
func (e *Engine) unknown(kind, id string) *RuleError { return e.lostEntities().unknown(kind, id) }

// replay folds one recovered event (called by journal.Open in seq order).
func (e *Engine) replay(ev *event.Envelope) error {
	if err := e.models.apply(ev); err != nil {
		return err
	}
	e.seq = ev.Seq
	e.rememberKeyLocked(ev, nil)
	return nil
}

// rememberKeyLocked indexes a durable (or in-flight, when entry != nil)
// transaction under its client key (see keyIndex.remember). A replayed
// key may push an older one out of memory; live keys do after their batch
// is answered (commitBatchLocked).
func (e *Engine) rememberKeyLocked(ev *event.Envelope, entry *keyEntry) {
	e.keys.remember(ev, entry)
	if entry == nil {
		e.keys.maintain()
	}
}

// plan is what a command's rule function returns: the events to write (the
// engine fills envelope fields) — or a refusal.
type plan struct {
	events []planned
}

type planned struct {
	typ      event.Type
	payload  any
	meta     *event.Metadata
	causedBy int    // index of an earlier event of this plan, or -1
	cause    string // explicit causation event id (when causedBy < 0)
}

func (p *plan) add(typ event.Type, payload any, meta *event.Metadata) int {
	p.events = append(p.events, planned{typ: typ, payload: payload, meta: meta, causedBy: -1})
	return len(p.events) - 1
}

func (p *plan) addCaused(typ event.Type, payload any, causedBy int, cause string) int {
	i := p.add(typ, payload, nil)
	p.events[i].causedBy, p.events[i].cause = causedBy, cause
	return i
}

// execute runs one command through the pipeline: it queues the command for
// the committer (commitLoop) and waits for its outcome. r is the command's
// rule bound to its input; the committer runs it on the view of the state
// the batch's earlier commands left (decideLocked).
func (e *Engine) execute(ctx context.Context, req Request, r rule) (Result, error) {
	if req.IdempotencyKey != "" && !ValidKey(req.IdempotencyKey) {
		return Result{}, refuse(CodeInvalid, nil, "idempotency key must be 1..%d characters of %s", MaxKeyLen, KeyAlphabet)
	}
	c := &command{ctx: ctx, req: req, rule: r, done: make(chan outcome, 1)}
	if err := e.queue.push(c); err != nil {
		return Result{}, err
	}
	var o outcome
	select {
	case o = <-c.done:
	case <-ctx.Done():
		// Give up only while the command is still queued: once the
		// committer took it, its answer must say what the store did (a
		// 5xx must never hide a committed write).
		if c.state.CompareAndSwap(cmdQueued, cmdAbandoned) {
			return Result{}, ctx.Err()
		}
		o = <-c.done
	case <-e.queue.exited:
		// Close stopped the committer; it resolved what it took.
		select {
		case o = <-c.done:
		default:
			return Result{}, ErrClosed
		}
	}
	if k := o.wait; k != nil {
		// Wait for the key's transaction first: a conflict or a replay
		// must name a key that is on disk.
		select {
		case <-k.done:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		if k.err != nil {
			return Result{}, k.err
		}
		if k.conflicts(req) {
			return Result{}, refuse(CodeIdempotencyConflict, nil,
				"idempotency key %q was already used with a different request", req.IdempotencyKey)
		}
		evs, err := e.keyEvents(req.IdempotencyKey, k)
		if err != nil {
			return Result{}, err
		}
		e.stats.replays.Add(1)
		return Result{Events: evs, Payloads: decodePayloads(evs), Replayed: true}, nil
	}
	if o.err != nil {
		return Result{}, o.err
	}
	e.stats.count(o.res)
	return o.res, nil
}

// command is one execute call queued for the committer.
type command struct {
	ctx   context.Context
	req   Request
	rule  rule
	done  chan outcome // buffered: the committer never blocks on it
	state atomic.Int32 // cmdQueued → cmdTaken (by the committer) or cmdAbandoned (by its caller)
}

const (
	cmdQueued int32 = iota
	cmdTaken
	cmdAbandoned
)

// outcome is what the committer hands back to execute.
type outcome struct {
	res  Result
	err  error
	key  *keyEntry // this command's own key entry, resolved after the commit
	wait *keyEntry // an earlier transaction holds the key: wait for it
}

// maxBatchCommands bounds how many queued commands one transaction takes.
const maxBatchCommands = 512

// commandQueueLen bounds the commands waiting for the committer; execute
// blocks while it is full.
const commandQueueLen = 4096

// commandQueue hands commands to the committer. push fails once Close
// began, and every pushed command is resolved by the committer (run or
// refused with ErrClosed).
type commandQueue struct {
	mu     sync.RWMutex
	closed bool
	ch     chan *command
	exited chan struct{} // closed when the committer has returned: nothing more is resolved
}

func newCommandQueue() *commandQueue {
	return &commandQueue{ch: make(chan *command, commandQueueLen), exited: make(chan struct{})}
}

func (q *commandQueue) push(c *command) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrClosed
	}
	select {
	case q.ch <- c:
		return nil
	case <-q.exited:
		return ErrClosed
	}
}

func (q *commandQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

// commitLoop is the committer: it takes the commands queued while the
// previous transaction was in flight and commits them as one (group
// commit: one begin, one catch-up, one write, one sync), each decided on
// the state its predecessors in the batch left.
func (e *Engine) commitLoop() {
	defer e.sweeping.Done()
	defer close(e.queue.exited)
	batch := make([]*command, 0, maxBatchCommands)
	for {
		select {
		case c := <-e.queue.ch:
			batch = append(batch[:0], c)
		case <-e.life.Done():
			// Close closed the queue first: what is in it is all there is.
			for {
				select {
				case c := <-e.queue.ch:
					c.done <- outcome{err: ErrClosed}
				default:
					return
				}
			}
		}
		batch = e.queue.drain(batch)
		e.mu.Lock()
		batch = e.commitBatchLocked(batch)
		e.mu.Unlock()
		clear(batch)
	}
}

// drain appends the queued commands to batch, up to maxBatchCommands.
func (q *commandQueue) drain(batch []*command) []*command {
	for len(batch) < maxBatchCommands {
		select {
		case c := <-q.ch:
			batch = append(batch, c)
		default:
			return batch
		}
	}
	return batch
}

// commitBatchLocked runs one transaction: begin (a shared store hands over
// what other instances wrote), then per command the key lookup, the rule,
// seal and fold, then one commit of every command's records; every
// outcome is resolved only after the commit, so no client is answered from
// state that is not durable. A failed commit fails exactly this batch.
func (e *Engine) commitBatchLocked(batch []*command) []*command {
	resolveAll := func(err error) {
		for _, c := range batch {
			c.done <- outcome{err: err}
		}
	}
	if err := e.usableLocked(); err != nil {
		resolveAll(err)
		return batch
	}
	tx, err := e.beginLocked(e.life)
	if err != nil {
		resolveAll(err)
		return batch
	}
	// What queued while Begin waited for a shared store's lock joins this
	// transaction.
	batch = e.queue.drain(batch)
	if err := e.prefetchKeysLocked(batch); err != nil {
		tx.Rollback()
		resolveAll(err)
		return batch
	}
	outs := make([]outcome, len(batch))
	var recs []store.Record
	for i, c := range batch {
		outs[i] = e.decideLocked(c, &recs)
	}
	var werr error
	if len(recs) == 0 {
		tx.Rollback()
	} else {
		werr = e.commitLocked(tx, recs)
	}
	for i, c := range batch {
		o := outs[i]
		if werr != nil && o.wait == nil && (o.err == nil || isRuleError(o.err)) {
			// A refusal saw the batch's earlier, now failed, events too.
			o = outcome{key: o.key, err: e.batchError(werr, c)}
		}
		if o.key != nil {
			o.key.err = o.err
			close(o.key.done)
			o.key = nil
		}
		c.done <- o
	}
	// Answered first: a spill to the disk index must not delay them.
	e.keys.maintain()
	return batch
}

// decideLocked runs one command of a batch: key lookup, rule, seal, fold,
// key registration. Its records are appended to recs.
func (e *Engine) decideLocked(c *command, recs *[]store.Record) outcome {
	if err := c.ctx.Err(); err != nil {
		return outcome{err: err} // its caller goes now
	}
	if !c.state.CompareAndSwap(cmdQueued, cmdTaken) {
		return outcome{err: context.Canceled} // its caller has gone
	}
	req := c.req
	if req.IdempotencyKey != "" {
		if k, ok := e.keys.lookup(req.IdempotencyKey); ok {
			return outcome{wait: k}
		}
	}
	// One reading of the clock per command: the rule decides on it and the
	// events carry it.
	now := e.nowLocked()
	p, err := c.rule(e.viewLocked(), now)
	if err != nil {
		return outcome{err: err}
	}
	evs, more, err := e.sealLocked(req, p, now)
	if err != nil {
		return outcome{err: err}
	}
	// A closed EoC window is journaled as its own system transaction right
	// after the command, so live and replay fold the same order.
	// sealLocked folds each decision, so Due moves on to the next window.
	for reg := e.regulationLocked(now); reg != nil; reg = e.regulationLocked(now) {
		_, rr, err := e.sealLocked(Request{ActorID: "system:eoc"}, reg, now)
		if err != nil {
			// Nothing of it was folded: the window stays due and is
			// journaled after a later command.
			e.log.Error("EoC regulation not journaled", "err", err)
			break
		}
		more = append(more, rr...)
	}
	o := outcome{res: Result{Events: evs, Payloads: p.payloads()}}
	if req.IdempotencyKey != "" {
		o.key = &keyEntry{requestHash: req.RequestHash, done: make(chan struct{}), events: evs}
		e.rememberKeyLocked(evs[0], o.key)
	}
	*recs = append(*recs, more...)
	return o
}

// nowLocked reads the clock for a command, never earlier than the newest
// event folded: timestamps never go back along seq, even when instances on
// one store run on hosts whose clocks disagree or a host's clock steps back.
func (e *Engine) nowLocked() time.Time {
	now := e.clock.Now()
	if last := e.models.last; now.Before(last) {
		return last
	}
	return now
}

func isRuleError(err error) bool {
	var re *RuleError
	return errors.As(err, &re)
}

// sealLocked turns a plan into envelopes with seq, ids, keys and causation,
// encodes them and only then folds them into the read models, so a plan
// that cannot be encoded leaves nothing folded. The caller commits the
// records before it answers anyone from the folded state.
func (e *Engine) sealLocked(req Request, p *plan, now time.Time) ([]*event.Envelope, []store.Record, error) {
	now = now.UTC()
	corr := req.CorrelationID
	key := req.IdempotencyKey
	evs := make([]*event.Envelope, len(p.events))
	recs := make([]store.Record, len(p.events))
	for i, pe := range p.events {
		payload, err := json.Marshal(pe.payload)
		if err != nil {
			return nil, nil, fmt.Errorf("engine: encode %s payload: %w", pe.typ, err)
		}
		ev := &event.Envelope{
			Seq: e.seq + uint64(i) + 1, EventID: newEventID(), EventType: pe.typ, Timestamp: now,
			ActorID: req.ActorID, SchemaVersion: event.SchemaVersion, Payload: payload, Metadata: pe.meta,
		}
		if corr == "" {
			corr = ev.EventID
		}
		ev.CorrelationID = corr
		switch {
		case pe.causedBy >= 0:
			ev.CausationID = &evs[pe.causedBy].EventID
		case pe.cause != "":
			c := pe.cause
			ev.CausationID = &c
		}
		if i == 0 && key == "" {
			key = "srv-" + ev.EventID // unique, never reusable by a client
		}
		if i == 0 {
			ev.IdempotencyKey = key
			if req.IdempotencyKey != "" {
				if ev.Metadata == nil {
					ev.Metadata = &event.Metadata{}
				}
				ev.Metadata.RequestHash = req.RequestHash
			}
			if len(p.events) > 1 {
				ev.TxSize = len(p.events)
			}
		} else {
			ev.IdempotencyKey = fmt.Sprintf("%s#%d", key, i)
		}
		evs[i] = ev
	}
	for i, ev := range evs {
		line, err := event.Encode(ev)
		if err != nil {
			return nil, nil, err
		}
		recs[i] = store.RecordOf(ev, line)
	}
	for _, ev := range evs {
		if err := e.models.apply(ev); err != nil {
			// The rule produced an event the fold rejects: a bug, not an
			// operating condition.
			panic(fmt.Sprintf("engine: rule produced an unfoldable event: %v", err))
		}
	}
	e.seq += uint64(len(evs))
	return evs, recs, nil
}

// failLocked records a store's sticky error and makes the engine refuse
// everything from now on.
func (e *Engine) failLocked(err error) error {
	if e.failed == nil {
		e.failed = fmt.Errorf("%w: %v", ErrJournalFailed, err)
		e.log.Error("journal failed; refusing all commands until restart", "err", err)
	}
	return e.failed
}

func (e *Engine) usableLocked() error {
	if e.failed != nil {
		return e.failed
	}
	if e.closed {
		return ErrClosed
	}
	return nil
}

// readDurableWait bounds how long a read waits for an in-flight commit;
// a store that does not commit within it answers 503.
const readDurableWait = 10 * time.Second

// errCommitStalled answers a read while a commit hangs.
var errCommitStalled = fmt.Errorf("%w: a commit has been in flight for %v", ErrStoreUnavailable, readDurableWait)

// read runs f under the lock once the engine can serve state: no commit
// in flight (its folded events are not durable yet), caught up with the
// store.
func (e *Engine) read(f func(st *projection.State)) error {
	deadline := time.NewTimer(readDurableWait)
	defer deadline.Stop()
	e.mu.Lock()
	for e.inflight != nil {
		wait := e.inflight
		e.mu.Unlock()
		select {
		case <-wait:
		case <-deadline.C:
			return errCommitStalled
		}
		e.mu.Lock()
	}
	defer e.mu.Unlock()
	if err := e.usableLocked(); err != nil {
		return err
	}
	if err := e.catchUpLocked(); err != nil {
		return err
	}
	f(e.models.st)
	return nil
}

// Close stops the loops, refuses new commands, and drains and closes the
// store. Cancelling first frees a committer stuck in a store's Begin (it
// holds e.mu there) and appenders blocked on a full queue.
func (e *Engine) Close() error {
	e.end() // first: a committer stuck in a store's Begin or a full queue must not hold Close
	e.queue.close()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	e.scans.cancel() // a scan holds the store's read side: stop it before closing
	e.sweeping.Wait()
	err := e.store.Close()
	e.mu.Lock()
	kerr := e.keys.close()
	e.mu.Unlock()
	if err == nil && kerr != nil {
		e.log.Warn("idempotency index: close failed (it is rebuilt from the journal on the next start)", "err", kerr)
	}
	return err
}

// Digest returns the seq and the state digest of all projections.
func (e *Engine) Digest() (uint64, string, error) {
	var seq uint64
	var d string
	err := e.read(func(st *projection.State) {
		seq = st.Seq()
		d = st.Digest(e.digestExtra)
	})
	return seq, d, err
}

func (e *Engine) digestExtra(h hash.Hash) {
	if d, ok := e.models.checker.(interface{ AppendDigest(hash.Hash) }); ok {
		d.AppendDigest(h)
	}
	e.models.eoc.AppendDigest(h)
}

// Recovery is the report of the journal's recovery at start.
func (e *Engine) Recovery() journal.RecoveryReport { return e.recovery }

// Events calls fn for every durable event with seq > afterSeq, in seq
// order, until fn returns false (GET /api/credits/events). Durable is what
// the store acknowledged: the journal's lines up to its durable offset
// (fsynced, or only written when the journal runs with NoSync), a
// database's committed rows, including those other instances wrote. An
// unreachable store is ErrStoreUnavailable.
func (e *Engine) Events(afterSeq uint64, fn func(line []byte, ev *event.Envelope) bool) error {
	return e.iterate(afterSeq, fn)
}

// newEventID is a new event's id: a random (version 4) UUID, SPEC §2.
func newEventID() string { return uuid.NewString() }
