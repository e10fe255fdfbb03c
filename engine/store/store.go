package store

import (
	"context"
	"errors"

	"github.com/creditgate/creditgate/engine/event"
)

// Transient errors. The engine answers them with 503 and, for a shared
// store, reloads its state from the store before serving again: it may have
// folded events whose commit is unknown.
var (
	// ErrUnavailable: the store cannot be reached or the commit's outcome is
	// unknown (connection lost, database restarting). Retry later.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrDuplicateKey: the store already holds an event with this
	// idempotency key (e.g. a key older than the engine's in-memory window).
	ErrDuplicateKey = errors.New("store: idempotency key already stored")
	// ErrStale: the caller's seq is behind the store (a gap would follow);
	// the caller must reload.
	ErrStale = errors.New("store: appender state is stale")
)

// Store keeps the event stream. Implementations are safe for concurrent use.
type Store interface {
	// Begin starts one append. For a shared store it takes the global append
	// lock (held until Commit or Rollback) and calls apply, in seq order, for
	// every durable event with seq > after. A local store calls apply for
	// nothing: the caller is its only writer.
	Begin(ctx context.Context, after uint64, apply func(ev *event.Envelope) error) (Tx, error)
	// Iterate calls fn for every durable event with seq > after, in seq
	// order, until fn returns false.
	Iterate(after uint64, fn func(line []byte, ev *event.Envelope) bool) error
	// Shared reports whether other processes may append to this store.
	Shared() bool
	Close() error
}

// Tx is one append begun by Begin. Exactly one of Commit or Rollback must be
// called; Rollback after Commit is a no-op.
type Tx interface {
	// Commit writes the encoded lines (each ending in '\n', seqs following
	// the store's last seq) and resolves the channel once with nil when they
	// are durable, or with the error. A shared store resolves it before
	// Commit returns.
	Commit(lines [][]byte) <-chan error
	// Rollback abandons the append and releases the lock.
	Rollback()
}
