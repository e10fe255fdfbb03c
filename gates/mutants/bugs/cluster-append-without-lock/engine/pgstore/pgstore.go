//go:build mutant

// Seeded bug cluster-append-without-lock (gate B, check CL1a): appends do
// not take the database's advisory lock, so instances decide concurrently on
// the same state.

package pgstore

import (
	"context"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
	"github.com/jackc/pgx/v5"
)

// Begin starts an append under the global append lock and hands over the
// events after `after`. BEGIN, the lock and the catch-up read go to the
// server in one pipeline: one round trip, whatever the lock wait.
func (s *Store) Begin(ctx context.Context, after uint64, apply func(*event.Envelope) error) (store.Tx, error) {
	// The transaction outlives a cancelled request only up to OpTimeout: a
	// half-done append is rolled back by the server when the connection is
	// released, never left holding the lock.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.OpTimeout)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		cancel()
		return nil, unavailable("begin", err)
	}
	t := &pgTx{conn: conn, ctx: ctx, cancel: cancel, next: after + 1}
	// The scan starts at `after` itself: a store that no longer holds the
	// appender's last seq went backwards (it lost acknowledged events: a
	// database restored or crashed with fsync off). Appending after it
	// would write a gap every other instance stops at, so the appender is
	// told to reload instead. In READ COMMITTED the scan's snapshot is taken
	// when it starts, after the lock is granted, so it sees every commit of
	// the lock's previous holder.
	sql, args := scanSQL(after, after > 0, 0)
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(`SELECT $1::bigint`, AppendLock)
	b.Queue(sql, args...)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		t.Rollback()
		return nil, unavailable("begin", err)
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		t.Rollback()
		return nil, unavailable("append lock", err)
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		t.Rollback()
		return nil, unavailable("read events", err)
	}
	last, err := scanRows(rows, after, after > 0, func(_ []byte, ev *event.Envelope) (bool, error) {
		if apply != nil {
			if err := apply(ev); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if cerr := br.Close(); err == nil && cerr != nil {
		err = unavailable("read events", cerr)
	}
	if err != nil {
		t.Rollback()
		return nil, err
	}
	if last > after {
		t.next = last + 1
	}
	return t, nil
}
