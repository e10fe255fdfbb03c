package load

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/loopback"
	"github.com/creditgate/creditgate/scenarios/wire"
)

// maxResponseBody bounds what the client reads of one response.
const maxResponseBody = 4 << 20

// role of a request within its hit.
type role uint8

const (
	roleOriginal  role = iota
	roleRetry          // immediate retry, sent after the original returned
	roleDuplicate      // concurrent duplicate, sent with the original
	roleFollowUp       // approve after an approval request
	roleSetup
)

func (r role) String() string {
	return [...]string{"original", "retry", "concurrent_duplicate", "follow_up", "setup"}[r]
}

// reqRecord is one request as the recording client returned it, with the
// plan's view of it (the op it belongs to, its kind and role).
type reqRecord struct {
	opID uint64
	kind OpKind
	role role
	history.Op
}

// good reports an acknowledgement or a refusal the load provokes.
func (rec reqRecord) good() bool { return rec.Outcome.Acked() || expectedRefusal(rec.kind, rec.Op) }

// hit is one scheduled hit: its sequence number in the pacer's schedule,
// when it was due (ns on the history's clock) and the planned op.
type hit struct {
	seq        uint64
	intendedNs int64
	op         Op
}

// hitRecord is everything one hit sent, in send order (the original first).
type hitRecord struct {
	hit
	recs []reqRecord
}

// runner holds one Run's state: the dispatcher and the workers send through
// client (which records the history); agg only measures.
type runner struct {
	cfg     Config
	pacer   Pacer
	base    time.Time
	beganNs atomic.Int64 // when hit 0 was due, on the history's clock; 0 before the attack
	ctx     context.Context
	rt      *http.Transport
	client  wire.Client
	planner *planner
	limit   uint64
	agg     *aggregator
}

// Run sets up the agents and attacks cfg.BaseURL with the configured
// phases. It returns when the last phase ended and every in-flight request
// returned (bounded by the request timeout), or when ctx is done. The Result
// is returned even with an error when the attack ran.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, pacer: cfg.pacer(), base: time.Now(), ctx: ctx}
	r.rt = newTransport(cfg)
	defer r.rt.CloseIdleConnections()
	r.planner = newPlanner(cfg)

	agg, err := newAggregator(r)
	if err != nil {
		return nil, err
	}
	r.agg = agg
	defer agg.closeLog()
	r.client = wire.Client{
		HTTP: &http.Client{
			Transport:     r.rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		History: agg.res.History,
		MaxBody: maxResponseBody,
	}

	if err := r.setup(); err != nil {
		_ = agg.res.History.Close()
		return agg.result(), err
	}
	r.limit = agg.intended
	r.attack()
	res := agg.result()
	if err := res.History.Close(); err != nil {
		return res, fmt.Errorf("load: history stream: %w", err)
	}
	if err := agg.closeLog(); err != nil {
		return res, fmt.Errorf("load: interval log: %w", err)
	}
	return res, ctx.Err()
}

func newTransport(cfg Config) *http.Transport {
	// Second line of defence behind CheckTarget: refuse to dial anything
	// but loopback, whatever a name resolved to.
	d := loopback.Dialer(cfg.RequestTimeout, cfg.AllowRemote)
	conns := 2*cfg.Concurrency + 8 // duplicates and follow-ups need their own
	return &http.Transport{
		Proxy:                 nil, // never through a proxy: loopback means loopback
		DialContext:           d.DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		DisableCompression:    true,
	}
}

func (r *runner) now() int64 { return r.client.History.Now() }

// setup creates the agents and tops them up, sequentially; it stops at the
// first unexpected outcome.
func (r *runner) setup() error {
	for i := 0; i < r.cfg.Agents; i++ {
		for _, kind := range []OpKind{KindSetupAgent, KindSetupAdd} {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			op := Op{ID: uint64(i), Kind: kind, Agent: i, AmountMilli: r.cfg.SetupMilli}
			rec := r.sendOp(op, roleSetup, fmt.Sprintf("%s-%s-%d", r.cfg.KeyPrefix, kind, i))
			r.agg.recordSetup(rec)
			if !rec.good() {
				method, path, _ := r.cfg.request(op)
				return fmt.Errorf("load: setup of agent %s failed: %s %s: status %d %s %s",
					r.cfg.AgentID(i), method, path, rec.Status, rec.Code, rec.Err)
			}
		}
	}
	return nil
}

// sendOp sends op's own request in the given role with the given key.
func (r *runner) sendOp(op Op, ro role, key string) reqRecord {
	method, path, body := r.cfg.request(op)
	h := history.Op{Kind: historyKind(op.Kind), Role: historyRole(ro), AmountMilli: op.AmountMilli}
	if op.Kind != KindBalances {
		h.Agent = r.cfg.AgentID(op.Agent)
	}
	return r.send(op.ID, op.Kind, ro, wire.Request{Method: method, Path: path, Body: body, Key: key, Token: r.cfg.Token, Op: h})
}

// send sends one request of op opID through the recording client, bounded
// by the request timeout.
func (r *runner) send(opID uint64, kind OpKind, ro role, req wire.Request) reqRecord {
	req.Base, req.Timeout = r.cfg.BaseURL, r.cfg.RequestTimeout
	resp := r.client.Send(r.ctx, req)
	return reqRecord{opID: opID, kind: kind, role: ro, Op: resp.Op}
}

// execute sends everything one hit does: the original, with its concurrent
// duplicate or followed by its immediate retry, or followed by the
// approval decision of an acknowledged approval request.
func (r *runner) execute(h hit) *hitRecord {
	op := h.op
	out := &hitRecord{hit: h}
	var dup reqRecord
	var wg sync.WaitGroup
	if op.Retry == RetryConcurrent {
		wg.Add(1)
		go func() { defer wg.Done(); dup = r.sendOp(op, roleDuplicate, r.cfg.Key(op)) }()
	}
	orig := r.sendOp(op, roleOriginal, r.cfg.Key(op))
	wg.Wait()
	out.recs = append(out.recs, orig)
	switch {
	case op.Retry == RetryConcurrent:
		out.recs = append(out.recs, dup)
	case op.Retry == RetryImmediate:
		out.recs = append(out.recs, r.sendOp(op, roleRetry, r.cfg.Key(op)))
	case op.Kind == KindApproval && orig.Outcome.Acked():
		// A missing request_id is sent as is: the refusal is recorded and the
		// audit sees an acknowledged request nobody decided.
		out.recs = append(out.recs, r.send(op.ID, KindApprove, roleFollowUp, wire.Request{
			Method: "POST", Path: approvePath(r.cfg, orig.RequestID), Body: approveBody(),
			Key: r.cfg.Key(op) + "-approve", Token: r.cfg.ApproverToken,
			Op: history.Op{Kind: history.KindApprove, Role: history.FollowUp, Entity: orig.RequestID},
		}))
	}
	return out
}

// attack is our scheduler around the pacer (a vegeta.Pacer): one
// dispatcher hands each hit, when it is due, to a pool of Concurrency
// workers over an unbuffered channel. When every worker is busy the hit
// waits, the schedule does not: its latency still counts from when it was
// due (no coordinated omission). It returns when the schedule ended (or
// ctx is done, or the phases plus the request timeout and a grace second
// passed) and every handed-out hit returned.
func (r *runner) attack() {
	c := r.cfg
	ctx, cancel := context.WithTimeout(r.ctx, c.Duration+c.RequestTimeout+time.Second)
	defer cancel()

	hits := make(chan hit) // unbuffered: a hit is sent only once a worker is free
	var workers sync.WaitGroup
	for range c.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for h := range hits {
				r.agg.recordHit(r.execute(h))
			}
		}()
	}
	done := make(chan struct{})
	tickerDone := make(chan struct{})
	r.beganNs.Store(max(r.now(), 1))
	go func() {
		defer close(tickerDone)
		r.agg.tick(done)
	}()

	r.dispatch(ctx, r.pacer, hits)
	close(hits)
	workers.Wait()
	close(done)
	<-tickerDone
	r.agg.finish(r.now())
}

// dispatch waits until each hit is due, as the pacer says (vegeta's Pace:
// how long until hit n, or stop), and hands it over with its intended
// time (HitAt). Behind schedule it hands hits over back to back.
func (r *runner) dispatch(ctx context.Context, p interface {
	vegeta.Pacer
	HitAt(uint64) (time.Duration, bool)
}, hits chan<- hit) {
	began := r.beganNs.Load()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for seq := uint64(0); seq < r.limit; seq++ {
		wait, stop := p.Pace(time.Duration(r.now()-began), seq)
		if stop {
			return
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		due, ok := p.HitAt(seq)
		if !ok {
			return
		}
		h := hit{seq: seq, intendedNs: began + int64(due), op: r.planner.Next()}
		select {
		case <-ctx.Done():
			return
		case hits <- h:
		}
	}
}
