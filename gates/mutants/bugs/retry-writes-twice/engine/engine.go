//go:build mutant

// Seeded bug retry-writes-twice (gate A, check A9): the idempotency lookup
// is skipped, so a retry writes a second event.

package engine

import (
	"context"

	"github.com/creditgate/creditgate/engine/store"
)

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
		if k, ok := e.keys.lookup(req.IdempotencyKey); ok && false {
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
