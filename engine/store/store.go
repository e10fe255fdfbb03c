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
	// idempotency key (e.g. another instance wrote it meanwhile).
	ErrDuplicateKey = errors.New("store: idempotency key already stored")
	// ErrStale: the caller's seq is behind the store (a gap would follow);
	// the caller must reload.
	ErrStale = errors.New("store: appender state is stale")
)

// Record is one sealed event handed to Commit: the fields a store indexes,
// copied from the envelope the line encodes, and the line itself.
type Record struct {
	Seq     uint64
	Key     string // idempotency key (unique in the store)
	EventID string
	Type    event.Type
	Line    []byte // the encoded envelope, '\n'-terminated
}

// RecordOf returns the record of an encoded envelope.
func RecordOf(ev *event.Envelope, line []byte) Record {
	return Record{Seq: ev.Seq, Key: ev.IdempotencyKey, EventID: ev.EventID, Type: ev.EventType, Line: line}
}

// Lines returns the records' lines.
func Lines(recs []Record) [][]byte {
	lines := make([][]byte, len(recs))
	for i, r := range recs {
		lines[i] = r.Line
	}
	return lines
}

// DuplicateKeyError is the ErrDuplicateKey a store returns when it can name
// the key that is already stored.
type DuplicateKeyError struct{ Key, Detail string }

func (e *DuplicateKeyError) Error() string { return ErrDuplicateKey.Error() + ": " + e.Detail }
func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

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
	// Commit writes the records (seqs following the store's last seq, each
	// line ending in '\n') and resolves the channel once with nil when they
	// are durable, or with the error. A shared store resolves it before
	// Commit returns. The records' fields are what the engine encoded into
	// the line: a store never decodes a line to learn them.
	Commit(recs []Record) <-chan error
	// Rollback abandons the append and releases the lock.
	Rollback()
}

// Description names a store for /info and /metrics.
type Description struct {
	Kind     string // "jsonl-journal", "postgresql", …
	Location string // the journal's file path, the database's host:port/name (never a password)
}

// Describer is implemented by a store that can name itself; the engine
// reports others as kind "custom".
type Describer interface {
	Describe() Description
}

// SettingsKeeper is implemented by a store several instances share: the
// settings that decide money are recorded by the first instance, and every
// later one compares its own with them (instances must not decide the same
// stream by different rules).
type SettingsKeeper interface {
	// KeepSettings records body (a JSON object) under name unless the store
	// holds settings of that name, and returns what the store holds.
	KeepSettings(ctx context.Context, name string, body []byte) ([]byte, error)
}

// KeyLooker is implemented by a store that indexes idempotency keys (a
// shared store: a unique index). The engine asks it for keys its memory no
// longer holds, instead of rebuilding its state to learn them.
// Implementations are safe for concurrent use.
type KeyLooker interface {
	// LookupKeys returns, for each of keys the store holds as a primary
	// event's key, the lines of that transaction in seq order: the primary
	// and its derived events ("<key>#1", …). Keys the store does not hold
	// are absent from the map.
	LookupKeys(ctx context.Context, keys []string) (map[string][][]byte, error)
}
