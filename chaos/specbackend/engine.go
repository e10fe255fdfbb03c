package specbackend

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures the engine. The zero value is valid: every zero field takes its default.
type Config struct {
	JournalPath    string // default storage/events/credits.jsonl
	NoFsync        bool   // throwaway runs only: acknowledge without fdatasync
	Recovery       string // "quarantine" (default) or "strict"
	MaxBatch       int    // events batches per write+sync (default 256, max 4096)
	QueueLen       int    // pending batches before appenders block (default 4096)
	LedgerKeep     int    // newest ledger entries per agent in memory (default 256); older pages come from the journal
	MaxAmountMilli int64  // default 1e9 credits

	ApprovalThresholdMilli int64 // gating threshold for add/withdraw (default 500 credits)
	MediumMilli            int64 // default 500 credits
	HighMilli              int64 // default 5,000 credits
	CriticalMilli          int64 // default 50,000 credits
	TimeoutMedium          time.Duration
	TimeoutHigh            time.Duration
	TimeoutCritical        time.Duration
	ExpiryTick             time.Duration // default 1s

	SynergieCapMilli  int64 // per agent per team (default 500 credits)
	SynergieBaseMilli int64 // base reward (default 50 credits)

	KarmaURL             string
	KarmaTimeout         time.Duration // default 150ms
	KarmaCacheTTL        time.Duration // default 5m
	KarmaBreakerFailures int           // default 3
	KarmaBreakerCooldown time.Duration // default 2s

	AnomalyRatio      float64 // default 10
	AnomalyZ          float64 // default 6
	AnomalyMinSamples int64   // default 5

	EoCTick time.Duration // default 2s

	MissionRefundPPM int64 // failed-mission refund share (default 1.0)

	KeyIndexSlots uint64 // initial slots of the on-disk key index (power of 2, default 1<<22)

	Clock  func() time.Time
	Logger *slog.Logger

	// Defects switches on deliberate bugs (defects.go) to test the harness; nil: none.
	Defects Defects
}

// DefaultConfig returns the configuration with every default filled in.
func DefaultConfig() Config {
	var c Config
	c.fill()
	return c
}

func (c *Config) fill() {
	def := func(p *int64, v int64) {
		if *p <= 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.JournalPath == "" {
		c.JournalPath = "storage/events/credits.jsonl"
	}
	if c.Recovery == "" {
		c.Recovery = "quarantine"
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 4096
	}
	if c.LedgerKeep <= 0 {
		c.LedgerKeep = 256
	}
	def(&c.MaxAmountMilli, 1_000_000_000*MilliPerCredit)
	def(&c.ApprovalThresholdMilli, 500*MilliPerCredit)
	def(&c.MediumMilli, 500*MilliPerCredit)
	def(&c.HighMilli, 5_000*MilliPerCredit)
	def(&c.CriticalMilli, 50_000*MilliPerCredit)
	defD(&c.TimeoutMedium, 24*time.Hour)
	defD(&c.TimeoutHigh, 48*time.Hour)
	defD(&c.TimeoutCritical, 72*time.Hour)
	defD(&c.ExpiryTick, time.Second)
	def(&c.SynergieCapMilli, 500*MilliPerCredit)
	def(&c.SynergieBaseMilli, 50*MilliPerCredit)
	defD(&c.KarmaTimeout, 150*time.Millisecond)
	defD(&c.KarmaCacheTTL, 5*time.Minute)
	if c.KarmaBreakerFailures <= 0 {
		c.KarmaBreakerFailures = 3
	}
	defD(&c.KarmaBreakerCooldown, 2*time.Second)
	if c.AnomalyRatio <= 0 {
		c.AnomalyRatio = 10
	}
	if c.AnomalyZ <= 0 {
		c.AnomalyZ = 6
	}
	def(&c.AnomalyMinSamples, 5)
	defD(&c.EoCTick, 2*time.Second)
	def(&c.MissionRefundPPM, 1_000_000)
	if c.KeyIndexSlots < 1024 || c.KeyIndexSlots&(c.KeyIndexSlots-1) != 0 {
		c.KeyIndexSlots = 1 << 22
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c.fill()
	switch {
	case c.Recovery != "quarantine" && c.Recovery != "strict":
		return fmt.Errorf("config: recovery must be quarantine or strict, got %q", c.Recovery)
	case c.MaxBatch > 4096:
		return errors.New("config: max batch above 4096")
	case !(c.MediumMilli <= c.HighMilli && c.HighMilli <= c.CriticalMilli):
		return errors.New("config: risk thresholds must be MEDIUM <= HIGH <= CRITICAL")
	case c.MissionRefundPPM > 1_000_000:
		return errors.New("config: mission refund share above 1")
	}
	for d, on := range c.Defects {
		if _, err := ParseDefects(string(d)); on && (err != nil || d == "all" || d == "none") {
			return fmt.Errorf("config: unknown defect %q", d)
		}
	}
	return nil
}

// APIError is an enumerated business outcome or a request error, mapped to HTTP by status.
type APIError struct {
	Status int
	Code   string
	Detail string
	Extra  map[string]any
	// replay of an earlier command (duplicate collaboration_id)
	replayFirst int64
	replayN     int
	replayKind  string
}

func apiErr(status int, code, detail string) *APIError {
	return &APIError{Status: status, Code: code, Detail: detail}
}

func fieldErr(field, why string) *APIError {
	return &APIError{Status: 422, Code: "invalid_field", Detail: field + ": " + why, Extra: map[string]any{"field": field}}
}

func (e *APIError) body() map[string]any {
	b := map[string]any{"detail": e.Detail, "code": e.Code}
	for k, v := range e.Extra {
		b[k] = v
	}
	return b
}

// Response is a command or query result ready for the HTTP layer.
type Response struct {
	Status   int
	Body     any
	Replayed bool
}

func errResp(e *APIError) *Response { return &Response{Status: e.Status, Body: e.body()} }

// Engine owns the journal and the projections.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	mu    sync.Mutex
	st    *State // decision state: every sealed event, durable or not (guarded by mu)
	rmu   sync.RWMutex
	rs    *State // read model: durable events only (guarded by rmu); every query reads this
	j     *journal
	karma *karmaClient
	eoc   *eocMonitor

	report    *RecoveryReport
	closing   atomic.Bool
	closeOnce sync.Once
	stop      chan struct{}
	wg        sync.WaitGroup
	startedAt time.Time

	inflight map[string]*idemEntry // keyed commands not yet in the on-disk key index
	keys     *keyIndex
	durMu    sync.Mutex
	durable  []string // keys whose commands are durable, to be indexed

	replays       atomic.Int64
	conflicts     atomic.Int64
	detectorFails atomic.Int64
	published     atomic.Int64
}

// Open replays the journal and starts the writer and the timers.
func Open(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.fill()
	e := &Engine{cfg: cfg, log: cfg.Logger, st: newState(0), rs: newState(cfg.LedgerKeep), stop: make(chan struct{}), startedAt: cfg.Clock(),
		inflight: map[string]*idemEntry{}}
	e.rs.refundNoMission = cfg.Defects.Has(DefectH11RefundLedgerNoMission)
	e.st.cappedRaw = cfg.Defects.Has(DefectH14SynergieCappedRaw)
	e.st.collabPerTeam = cfg.Defects.Has(DefectH15CollabIDPerTeam)
	e.rs.cappedRaw = e.st.cappedRaw
	if err := os.MkdirAll(filepath.Dir(cfg.JournalPath), 0o755); err != nil {
		return nil, err
	}
	var hashes []uint64
	var seqs []int64
	j, rep, err := openJournal(cfg.JournalPath, cfg.Recovery, !cfg.NoFsync, cfg.MaxBatch, cfg.QueueLen, cfg.Clock(), cfg.Defects, func(ev *Event) {
		e.st.Apply(ev)
		e.rs.Apply(ev)
		if ev.Metadata.Command != "" && !strings.Contains(ev.IdempotencyKey, "~") {
			hashes = append(hashes, keyHash(e.ikey(ev.IdempotencyKey)))
			seqs = append(seqs, ev.Seq)
		}
	})
	if err != nil {
		return nil, err
	}
	// the read model learns an event only once it is durable (SPEC §3: a client never
	// sees state that a crash could take back)
	j.onDurable = func(evs []*Event) {
		e.rmu.Lock()
		for _, ev := range evs {
			e.rs.Apply(ev)
		}
		e.rmu.Unlock()
	}
	var keys *keyIndex
	if cfg.Defects.Has(DefectH9KeyIndexReusedAtStart) {
		// defect: a start-up shortcut reuses the key index file of the last run instead
		// of rebuilding it from the journal
		keys = reopenKeyIndex(cfg.JournalPath+".keys", uint64(len(hashes)))
	}
	if keys == nil {
		keys, err = bulkLoad(cfg.JournalPath+".keys", cfg.KeyIndexSlots, hashes, seqs)
	}
	if err != nil {
		// e.g. the disk is full: start anyway with the key index in memory (never exit);
		// appends then fail (sticky, 503) for as long as the disk stays full.
		e.log.Error("key index file unavailable; keeping retained keys in memory", "err", err)
		keys = memKeyIndex(hashes, seqs)
	}
	hashes, seqs = nil, nil
	if cfg.Defects.Has(DefectH7CollabDedupLostOnRestart) {
		// defect: the collaboration dedup index is filled by live requests only (exec),
		// so the decision state forgets every collaboration_id recorded before this start
		e.st.collabs = map[string]collabRef{}
	}
	if cfg.Defects.Has(DefectH14MissionRefundCauseLostOnRestart) {
		// defect: the mission -> consumption link of the decision state is filled by live
		// starts only (exec), not by the replay
		for _, m := range e.st.Missions {
			m.ConsumeEventID = ""
		}
	}
	if cfg.Defects.Has(DefectH13ExpiryRearmedAtStart) {
		// defect: "restore the timers" re-arms every pending request with its full timeout
		// from now, instead of keeping the journaled deadline
		for _, st := range []*State{e.st, e.rs} {
			for _, a := range st.Approvals {
				if a.Status == "pending" {
					a.expires = e.startedAt.Add(time.Duration(a.TimeoutSeconds) * time.Second)
				}
			}
		}
	}
	e.keys = keys
	rep.IntegrityErrors = e.st.IntegrityErrors
	e.j, e.report = j, rep
	e.karma = newKarmaClient(cfg, e.log)
	e.eoc = newEoCMonitor(e.st.EoC)
	e.eoc.anomalyAsError = cfg.Defects.Has(DefectH14EoCAnomalyAsError)
	if rep.TornTail != nil {
		e.log.Warn("journal torn tail cut off", "file", cfg.JournalPath, "line", rep.TornTail.Line, "reason", rep.TornTail.Reason, "sidecar", rep.TornTail.Sidecar)
	}
	for _, q := range rep.Quarantined {
		e.log.Error("journal line quarantined", "file", cfg.JournalPath, "line", q.Line, "reason", q.Reason)
	}
	e.log.Info("journal replayed", "file", cfg.JournalPath, "events", rep.EventsReplayed, "last_seq", rep.LastSeq,
		"seconds", rep.ReplayDurationSeconds, "status", rep.Status, "fsync", !cfg.NoFsync)
	e.wg.Add(2)
	go e.expiryLoop()
	go e.eocLoop()
	e.karma.start(e.stop, &e.wg)
	return e, nil
}

// Close stops timers, drains the writer (sync) and closes the journal. Idempotent.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.closing.Store(true)
		close(e.stop)
		e.wg.Wait()
		e.mu.Lock()
		close(e.j.queue)
		e.mu.Unlock()
		<-e.j.stopped
		e.mu.Lock()
		e.keys.close()
		e.mu.Unlock()
	})
	return e.j.stickyErr()
}

// plan collects the events of one command; decide functions only emit, never apply.
type plan struct {
	st    *State
	now   time.Time
	ts    string
	actor string
	corr  string
	key   string
	evs   []*Event

	lastEntry map[string]int64 // agent -> seq of its newest ledger event in this plan
}

func (p *plan) emit(typ string, payload any, causation *string, meta Meta) *Event {
	seq := p.st.Seq + int64(len(p.evs)) + 1
	// chain each agent's ledger events (prev pointer) so older pages come from the journal
	prevOf := func(agentID string) int64 {
		if p.lastEntry == nil {
			p.lastEntry = map[string]int64{}
		}
		prev, ok := p.lastEntry[agentID]
		if !ok {
			if a := p.st.Agents[agentID]; a != nil {
				prev = a.LastEntrySeq
			}
		}
		p.lastEntry[agentID] = seq
		return prev
	}
	switch v := payload.(type) {
	case pCredit:
		v.PrevEntrySeq = prevOf(v.AgentID)
		payload = v
	case pPool:
		if v.AgentID != "" && v.AgentBalanceAfterMilli != nil {
			v.AgentPrevEntrySeq = prevOf(v.AgentID)
			payload = v
		}
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		panic("specbackend: payload not encodable: " + err.Error())
	}
	ev := &Event{Seq: seq, EventID: newUUID(), EventType: typ, Timestamp: p.ts,
		ActorID: p.actor, CorrelationID: p.corr, CausationID: causation, Payload: raw, SchemaVersion: SchemaVersion, Metadata: meta}
	if len(p.evs) == 0 {
		ev.IdempotencyKey = p.key
	} else {
		ev.IdempotencyKey = fmt.Sprintf("%s~%d", p.key, len(p.evs))
	}
	p.evs = append(p.evs, ev)
	return ev
}

type decideFunc func(st *State, p *plan) *APIError

type cmd struct {
	kind   string
	key    string // client key, "" when none
	hash   string
	actor  string
	corr   string
	decide decideFunc
}

// exec is the one straight path of every mutation: key check, decide, seal, apply,
// enqueue (under the lock, so journal order == seq order), unlock, wait for durability.
func (e *Engine) exec(c *cmd) *Response {
	if e.closing.Load() {
		return errResp(apiErr(503, "shutting_down", "server is shutting down"))
	}
	e.mu.Lock()
	// The clock is read under the lock: events take their timestamps in
	// seq order, so they never go back along the journal.
	now := e.cfg.Clock().UTC()
	e.indexDurableLocked()
	if c.key != "" {
		ent := e.inflight[e.ikey(c.key)]
		fromMemory := ent != nil
		if ent == nil {
			var err error
			if ent, err = e.lookupKeyLocked(c.key); err != nil {
				e.mu.Unlock()
				return errResp(apiErr(503, "journal_unavailable", err.Error()))
			}
		}
		if ent != nil {
			e.mu.Unlock()
			if ent.done != nil {
				// the key's command is still in flight: answer only from durable state
				<-ent.done
				if ent.err != nil {
					return errResp(apiErr(503, "journal_failed", ent.err.Error()))
				}
			}
			if ent.hash != c.hash || (ent.kind != c.kind && !e.cfg.Defects.Has(DefectH11IdemKeyIgnoresRoute)) {
				e.conflicts.Add(1)
				return errResp(&APIError{Status: 409, Code: "idempotency_key_conflict",
					Detail: "idempotency key was already used with a different request", Extra: map[string]any{"idempotency_key": c.key}})
			}
			r := e.replay(nil, nil, ent.kind, ent.firstSeq, ent.n)
			if !fromMemory && e.cfg.Defects.Has(DefectH14ReplayHeaderMemoryOnly) {
				r.Replayed = false // defect: only the in-memory path sets the replay header
			}
			return r
		}
	}
	if e.closing.Load() {
		e.mu.Unlock()
		return errResp(apiErr(503, "shutting_down", "server is shutting down"))
	}
	if err := e.j.stickyErr(); err != nil {
		e.mu.Unlock()
		return errResp(apiErr(503, "journal_failed", err.Error()))
	}
	p := &plan{st: e.st, now: now, ts: now.Format(time.RFC3339Nano), actor: c.actor, corr: c.corr, key: c.key}
	if p.key == "" {
		p.key = "srv~" + newUUID()
	}
	if p.corr == "" {
		p.corr = newUUID()
	}
	if ae := c.decide(e.st, p); ae != nil {
		seen := e.st.Seq
		e.mu.Unlock()
		// A refusal may rest on events not yet durable (an earlier command of the same
		// group commit): answer it only once everything it saw is durable, and 503 when
		// that state never became durable.
		if err := e.j.waitDurable(seen); err != nil {
			return errResp(apiErr(503, "journal_failed", err.Error()))
		}
		if ae.replayN > 0 {
			return e.replay(nil, nil, ae.replayKind, ae.replayFirst, ae.replayN)
		}
		if bal, ok := ae.Extra["balance"]; ok && ae.Code == "insufficient_credits" && e.cfg.Defects.Has(DefectH13InsufficientNoBalance) {
			extra := map[string]any{"available": bal} // defect: the balance is sent under another name
			for k, v := range ae.Extra {
				if k != "balance" {
					extra[k] = v
				}
			}
			ae.Extra = extra
		}
		return errResp(ae)
	}
	if len(p.evs) == 0 {
		panic("specbackend: command " + c.kind + " decided success without events")
	}
	first := p.evs[0]
	first.Metadata.Command = c.kind
	first.Metadata.RequestHash = c.hash
	first.Metadata.EventsInCommand = len(p.evs)
	lines := make([][]byte, len(p.evs))
	for i, ev := range p.evs {
		l, err := encodeLine(ev)
		if err != nil {
			panic("specbackend: event not encodable: " + err.Error())
		}
		lines[i] = l
	}
	for _, ev := range p.evs {
		e.st.Apply(ev)
	}
	var ent *idemEntry
	if c.key != "" {
		ent = &idemEntry{hash: c.hash, kind: c.kind, firstSeq: first.Seq, n: len(p.evs), done: make(chan struct{})}
		if !e.cfg.Defects.Has(DefectIdemConcurrentDuplicate) {
			e.inflight[e.ikey(c.key)] = ent
		}
	}
	if first.EventType == "synergie.collaboration_recorded" {
		pc := decodePayload[pCollab](first)
		e.st.collabs[e.st.collabKey(pc.TeamID, pc.CollaborationID)] = collabRef{hash: pc.CollabHash, firstSeq: first.Seq, n: len(p.evs)}
	}
	resp := respond(c.kind, p.evs)
	done := e.j.enqueue(lines, p.evs, first.Seq)
	e.mu.Unlock()
	err := <-done
	if ent != nil {
		ent.err = err
		if err != nil {
			// never durable: forget the key (a retry must not be replayed as success).
			// The decision state keeps the failed effects, but it is dead: the journal
			// error is sticky, so no command is decided on it again, and no query reads it.
			e.mu.Lock()
			if e.inflight[e.ikey(c.key)] == ent {
				delete(e.inflight, e.ikey(c.key))
			}
			e.mu.Unlock()
		}
		close(ent.done)
		if err == nil && e.cfg.Defects.Has(DefectIdemConcurrentDuplicate) {
			// defect: the key is remembered only now that its command is durable
			e.mu.Lock()
			e.inflight[e.ikey(c.key)] = ent
			e.mu.Unlock()
		}
		if err == nil {
			// durable: the next command moves the key from memory to the on-disk index
			e.durMu.Lock()
			e.durable = append(e.durable, c.key)
			e.durMu.Unlock()
		}
	}
	e.published.Add(int64(len(p.evs)))
	if err != nil {
		e.log.Error("journal append failed (sticky)", "err", err)
		return errResp(apiErr(503, "journal_failed", err.Error()))
	}
	return resp
}

// ikey is the form under which a client key is remembered and looked up: the key itself
// (DefectH14IdemKeyCaseInsensitive: lower-cased).
func (e *Engine) ikey(k string) string {
	if e.cfg.Defects.Has(DefectH14IdemKeyCaseInsensitive) {
		return strings.ToLower(k) // defect: keys "normalised" like header names
	}
	return k
}

// indexDurableLocked moves durable keyed commands from memory to the on-disk key index.
func (e *Engine) indexDurableLocked() {
	e.durMu.Lock()
	keys := e.durable
	e.durable = nil
	e.durMu.Unlock()
	for _, k := range keys {
		ent := e.inflight[e.ikey(k)]
		if ent == nil {
			continue
		}
		if err := e.keys.insert(keyHash(e.ikey(k)), ent.firstSeq); err != nil {
			e.log.Error("key index insert failed; key kept in memory", "err", err)
			continue
		}
		delete(e.inflight, e.ikey(k))
	}
}

// lookupKeyLocked finds a durable keyed command through the on-disk index, verifying the
// candidate against its journal line.
func (e *Engine) lookupKeyLocked(key string) (*idemEntry, error) {
	var ev *Event
	var rerr error
	_, found, err := e.keys.lookup(keyHash(e.ikey(key)), func(seq int64) bool {
		evs, err := e.j.readEvents(seq, 1)
		if err != nil {
			rerr = err
			return false
		}
		if e.ikey(evs[0].IdempotencyKey) == e.ikey(key) {
			ev = evs[0]
			return true
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	if !found {
		if rerr != nil {
			return nil, rerr
		}
		return nil, nil
	}
	m := ev.Metadata
	return &idemEntry{hash: m.RequestHash, kind: m.Command, firstSeq: ev.Seq, n: m.EventsInCommand}, nil
}

// replay answers a retried command from its journaled events.
func (e *Engine) replay(done chan struct{}, errp *error, kind string, firstSeq int64, n int) *Response {
	if done != nil {
		<-done
		if *errp != nil {
			return errResp(apiErr(503, "journal_failed", (*errp).Error()))
		}
	}
	var evs []*Event
	var err error
	for i := 0; i < 100; i++ {
		if evs, err = e.j.readEvents(firstSeq, n); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // in flight: durable shortly
	}
	if err != nil {
		return errResp(apiErr(503, "journal_unavailable", err.Error()))
	}
	e.replays.Add(1)
	r := respond(kind, evs)
	r.Replayed = true
	if e.cfg.Defects.Has(DefectH13ReplayStatus200) {
		r.Status = 200 // defect: a replayed answer is always "200 OK"
	}
	return r
}

// view runs fn on the read model (queries): durable events only, never the effects of a
// group commit that is still waiting for (or failed) its fsync.
func (e *Engine) view(fn func(st *State)) {
	e.rmu.RLock()
	defer e.rmu.RUnlock()
	fn(e.rs)
}

func (e *Engine) expiryLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.ExpiryTick)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		now := e.cfg.Clock()
		var due []string
		e.view(func(st *State) {
			for _, id := range st.approvalOrder {
				a := st.Approvals[id]
				if a.Status == "pending" && !now.Before(a.expires) {
					due = append(due, id)
				}
			}
		})
		for _, id := range due {
			e.exec(&cmd{kind: "expire", actor: "system:expiry", decide: func(st *State, p *plan) *APIError {
				a := st.Approvals[id]
				if a == nil || a.Status != "pending" || p.now.Before(a.expires) {
					return apiErr(409, "already_decided", "not pending")
				}
				p.corr = a.CorrelationID
				emitExpired(p, a)
				return nil
			}})
		}
	}
}

func emitExpired(p *plan, a *Approval) {
	ev := p.emit("approval.expired", pApproval{RequestID: a.ID, Version: a.Version + 1, ExpiresAt: a.ExpiresAt}, strPtr(a.RequestEventID), Meta{})
	ev.ActorID = "system:expiry" // the clock decided, not whoever touched the request
}

func (e *Engine) eocLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.EoCTick)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		e.eocTick()
	}
}

// eocTick closes one EoC scoring window. The EoC state is a projection of the journal:
// every window that had operations is journaled as eoc.regulated carrying the new score
// and regulation, so replay rebuilds exactly what GET /eoc served before a crash.
func (e *Engine) eocTick() {
	r, hadOps := e.eoc.tick(e.cfg.EoCTick)
	if !hadOps || e.j.stickyErr() != nil {
		return
	}
	e.exec(&cmd{kind: "eoc", actor: "system:eoc", decide: func(st *State, p *plan) *APIError {
		r.PreviousBand = st.EoC.Band
		p.emit("eoc.regulated", r, nil, Meta{})
		return nil
	}})
}

// EoCView is GET /eoc: the EoC projection (durable, identical after replay).
func (e *Engine) EoCView() map[string]any {
	var proj eocProj
	e.view(func(st *State) { proj = st.EoC })
	state := "stable"
	if proj.Band != "optimal" {
		state = "regulating"
	}
	if proj.Band == "critical_low" || proj.Band == "critical_high" {
		state = "critical"
	}
	return map[string]any{"score": proj.Score, "band": proj.Band, "state": state,
		"regulation": map[string]any{"regeneration_factor": proj.Regen, "backpressure": proj.Backpress, "throttling": false,
			"journaled_regulations": proj.Regulations, "last_journaled_band": proj.Band},
		"inputs":       map[string]any{"anomaly_rate": proj.AnomalyRate, "error_rate": proj.ErrorRate, "load_rps": proj.LoadRPS},
		"optimal_band": []float64{0.5, 0.7}, "critical_below": 0.3, "critical_above": 0.85}
}

// Health summarises component states.
func (e *Engine) Health() (status string, journal string, karma string) {
	journal = "ok"
	if e.j.stickyErr() != nil {
		journal = "failed"
	} else if e.report.Status == "degraded" {
		journal = "degraded"
	}
	ks := e.karma.status()
	karma = ks.State
	status = "ok"
	if journal != "ok" || (ks.Configured && karma != "healthy") {
		status = "degraded"
	}
	if journal == "failed" {
		status = "failed"
	}
	return
}

// Ready reports whether the engine accepts mutations.
func (e *Engine) Ready() bool {
	if e.cfg.Defects.Has(DefectH13ReadyzIgnoresJournal) {
		return !e.closing.Load() // defect: only shutdown makes the backend unready
	}
	return !e.closing.Load() && e.j.stickyErr() == nil
}

func normID(s string) string { return strings.TrimSpace(s) }

var statusText = http.StatusText

// History returns an agent's ledger newest first from offset: the in-memory ring first,
// then older entries by following prev_entry_seq through the journal. truncated reports a
// chain that ends early (a destroyed line).
func (e *Engine) History(agentID string, offset, limit int) (entries []LedgerEntry, total int64, found, truncated bool, err error) {
	var next int64
	var inMem int
	e.view(func(st *State) {
		a := st.Agents[agentID]
		if a == nil {
			return
		}
		found, total, inMem = true, a.LedgerTotal, len(a.ledger)
		entries = a.Ledger(offset, limit)
		if n := len(a.ledger); e.cfg.Defects.Has(DefectH14HistoryLimitOldest) && offset == 0 && limit < n {
			entries = a.Ledger(n-limit, limit) // defect: the chronological list cut before it is reversed
		}
		if all := a.Ledger(0, len(a.ledger)); len(all) > 0 {
			next = all[len(all)-1].PrevSeq
			if e.cfg.Defects.Has(DefectHistoryRingBoundary) {
				next = all[len(all)-1].Seq // defect: starts at the oldest in-memory entry itself
			}
		}
	})
	if !found || len(entries) == limit || next == 0 {
		return
	}
	skip := offset - inMem
	for next > 0 && len(entries) < limit && int64(offset+len(entries)) < total {
		evs, rerr := e.j.readEvents(next, 1)
		if rerr != nil {
			truncated = true
			return
		}
		le, ok := ledgerEntryFor(evs[0], agentID, e.cfg.Defects.Has(DefectH13HistoryPoolAllocSign))
		if !ok {
			truncated = true
			return
		}
		if skip > 0 {
			skip--
		} else {
			entries = append(entries, le)
		}
		next = le.PrevSeq
	}
	return
}
