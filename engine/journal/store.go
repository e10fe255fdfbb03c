package journal

import (
	"context"
	"sync/atomic"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
)

// Store is the journal as a store.Store. The journal has one writer (the
// engine that opened it), so Begin hands over nothing and takes no lock:
// the caller orders its appends. Commit is the group commit.
type Store struct {
	j    *Journal
	last atomic.Uint64 // highest seq committed through the store (or recovered)
}

var _ store.Store = (*Store)(nil)

// NewStore wraps an open journal whose last recovered seq is lastSeq.
func NewStore(j *Journal, lastSeq uint64) *Store {
	s := &Store{j: j}
	s.last.Store(lastSeq)
	return s
}

// OpenStore opens the journal at cfg.Path as a store (recovery folds
// nothing; for the conformance suite and benchmarks).
func OpenStore(cfg Config) (*Store, error) {
	j, rep, err := Open(cfg, func(*event.Envelope) error { return nil })
	if err != nil {
		return nil, err
	}
	return NewStore(j, rep.LastSeq), nil
}

// Journal returns the wrapped journal.
func (s *Store) Journal() *Journal { return s.j }

// Begin starts an append; nothing to hand over, nothing to lock.
func (s *Store) Begin(context.Context, uint64, func(*event.Envelope) error) (store.Tx, error) {
	if err := s.j.Err(); err != nil {
		return nil, err
	}
	return storeTx{s}, nil
}

// Iterate returns the durable events after `after`; a caller that has seen
// every committed seq (the engine catching up) costs no read.
func (s *Store) Iterate(after uint64, fn func(line []byte, ev *event.Envelope) bool) error {
	if after >= s.last.Load() {
		return nil
	}
	return s.j.Iterate(after, fn)
}

// Describe names the journal file.
func (s *Store) Describe() store.Description {
	return store.Description{Kind: "jsonl-journal", Location: s.j.cfg.Path}
}

// Shared is false: the journal file has one writer.
func (s *Store) Shared() bool { return false }

// Close drains and closes the journal.
func (s *Store) Close() error { return s.j.Close() }

type storeTx struct{ s *Store }

// Commit submits the records' lines to the group commit; the channel
// resolves once they are synced (or with the journal's sticky error).
func (t storeTx) Commit(recs []store.Record) <-chan error {
	if len(recs) == 0 {
		done := make(chan error, 1)
		done <- t.s.j.Err()
		return done
	}
	inner := t.s.j.Submit(store.Lines(recs))
	last := recs[len(recs)-1].Seq
	done := make(chan error, 1)
	go func() {
		err := <-inner
		if err == nil {
			for {
				cur := t.s.last.Load()
				if last <= cur || t.s.last.CompareAndSwap(cur, last) {
					break
				}
			}
		}
		done <- err
	}()
	return done
}

func (storeTx) Rollback() {}
