//go:build mutant

// Seeded bug timestamp-at-arrival (gate A): an event's timestamp is the time
// its request arrived at execute, not the committer's reading when it gets
// its seq (nor is it held at the newest timestamp folded, as nowLocked
// does): under concurrency timestamps go backwards in seq order. On one
// instance arrival order is seq order; across instances a command waits for
// the append lock while another instance commits later arrivals.

package engine

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/creditgate/creditgate/engine/store"
)

type command struct {
	ctx   context.Context
	req   Request
	rule  rule
	done  chan outcome // buffered: the committer never blocks on it
	at    time.Time    // when the request arrived
	state atomic.Int32 // cmdQueued → cmdTaken (by the committer) or cmdAbandoned (by its caller)
}

func (e *Engine) execute(ctx context.Context, req Request, r rule) (Result, error) {
	if req.IdempotencyKey != "" && !ValidKey(req.IdempotencyKey) {
		return Result{}, refuse(CodeInvalid, nil, "idempotency key must be 1..%d characters of %s", MaxKeyLen, KeyAlphabet)
	}
	c := &command{ctx: ctx, req: req, rule: r, done: make(chan outcome, 1), at: e.clock.Now()}
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
		if k.requestHash != req.RequestHash {
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
	now := c.at
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
