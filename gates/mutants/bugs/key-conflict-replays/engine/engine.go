//go:build mutant

// Seeded bug key-conflict-replays (gate A, check A16): a reused key with a
// different body returns the original result instead of 409
// idempotency_key_conflict.

package engine

import "context"

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
		if false && k.requestHash != req.RequestHash {
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
