package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
)

// Harness opens the store under test.
type Harness struct {
	// Fresh returns an opener for a new, empty backing location (a file, a
	// database). Each call of the opener opens another handle on that same
	// data; for a store that is not Shared the suite closes one handle
	// before opening the next.
	Fresh func(t *testing.T) (open func() store.Store)
}

// Run runs every conformance test as a subtest of t.
func Run(t *testing.T, h Harness) {
	t.Run("AppendedLinesReadBackByteForByteInSeqOrder", func(t *testing.T) { appendReadBack(t, h) })
	t.Run("SeqIsGaplessUnderConcurrentAppenders", func(t *testing.T) { gapless(t, h) })
	t.Run("RollbackWritesNothing", func(t *testing.T) { rollback(t, h) })
	t.Run("CommittedEventsSurviveReopen", func(t *testing.T) { durable(t, h) })
	t.Run("IdempotencyKeyIsUniqueInTheStore", func(t *testing.T) { uniqueKey(t, h) })
	t.Run("BeginHandsOverEventsOfOtherHandles", func(t *testing.T) { handOver(t, h) })
	t.Run("BeginRefusesAnAppenderAheadOfTheStore", func(t *testing.T) { aheadOfStore(t, h) })
}

// Line encodes one event with the given seq and key.
func Line(t testing.TB, seq uint64, key string) []byte {
	t.Helper()
	ev := &event.Envelope{
		Seq: seq, EventID: fmt.Sprintf("ev-%d-%s", seq, key), EventType: event.CreditConsumed,
		Timestamp: time.Unix(1_700_000_000, 0).UTC(), ActorID: "storetest", CorrelationID: key,
		SchemaVersion: event.SchemaVersion, IdempotencyKey: key,
		Payload: []byte(fmt.Sprintf(`{"agent_id":"a","amount_milli":%d,"balance_after_milli":0,"reason":"x"}`, seq)),
	}
	l, err := event.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustOpen(t *testing.T, open func() store.Store) store.Store {
	t.Helper()
	s := open()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// commit appends lines after seq `after` and waits for the result.
func commit(t testing.TB, s store.Store, after uint64, lines ...[]byte) error {
	t.Helper()
	tx, err := s.Begin(context.Background(), after, func(*event.Envelope) error { return nil })
	if err != nil {
		return err
	}
	return <-tx.Commit(Records(t, lines...))
}

// Records turns encoded lines into the records Commit takes.
func Records(t testing.TB, lines ...[]byte) []store.Record {
	t.Helper()
	recs := make([]store.Record, len(lines))
	for i, l := range lines {
		ev, err := event.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = store.RecordOf(&ev, l)
	}
	return recs
}

func readAll(t testing.TB, s store.Store, after uint64) ([][]byte, []uint64) {
	t.Helper()
	var lines [][]byte
	var seqs []uint64
	err := s.Iterate(after, func(line []byte, ev *event.Envelope) bool {
		lines = append(lines, bytes.Clone(line))
		seqs = append(seqs, ev.Seq)
		return true
	})
	if err != nil {
		t.Fatalf("Iterate(%d): %v", after, err)
	}
	return lines, seqs
}

func appendReadBack(t *testing.T, h Harness) {
	s := mustOpen(t, h.Fresh(t))
	var want [][]byte
	for i := uint64(1); i <= 5; i += 2 { // two commands of one and two events
		batch := [][]byte{Line(t, i, fmt.Sprintf("k%d", i))}
		if i < 5 {
			batch = append(batch, Line(t, i+1, fmt.Sprintf("k%d", i+1)))
		}
		if err := commit(t, s, i-1, batch...); err != nil {
			t.Fatalf("commit at %d: %v", i, err)
		}
		want = append(want, batch...)
	}
	got, seqs := readAll(t, s, 0)
	if len(got) != len(want) {
		t.Fatalf("read %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d differs:\n got %q\nwant %q", i, got[i], want[i])
		}
		if err := event.Verify(got[i]); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if seqs[i] != uint64(i+1) {
			t.Fatalf("line %d has seq %d", i, seqs[i])
		}
	}
	if _, tail := readAll(t, s, 3); len(tail) != 2 || tail[0] != 4 {
		t.Fatalf("Iterate(3) = seqs %v, want [4 5]", tail)
	}
	n := 0
	if err := s.Iterate(0, func([]byte, *event.Envelope) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Fatalf("Iterate stopping after 2: n=%d err=%v", n, err)
	}
}

// gapless: 4 appenders × 25 commands. A shared store gets one handle per
// appender, each knowing only what Begin hands it; a local store is
// appended to under one mutex, as its single writer does.
func gapless(t *testing.T, h Harness) {
	open := h.Fresh(t)
	first := mustOpen(t, open)
	const workers, per = 4, 25
	var mu sync.Mutex
	var shared uint64
	var wg sync.WaitGroup
	errs := make(chan error, workers*per)
	for w := range workers {
		s := first
		if first.Shared() && w > 0 {
			s = mustOpen(t, open)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last uint64
			for i := range per {
				key := fmt.Sprintf("w%d-%d", w, i)
				if !s.Shared() {
					mu.Lock()
					last = shared
				}
				tx, err := s.Begin(context.Background(), last, func(ev *event.Envelope) error {
					if ev.Seq != last+1 {
						return fmt.Errorf("handed seq %d after %d", ev.Seq, last)
					}
					last = ev.Seq
					return nil
				})
				if err == nil {
					err = <-tx.Commit(Records(t, Line(t, last+1, key)))
					if err == nil {
						last++
					}
				}
				if !s.Shared() {
					shared = last
					mu.Unlock()
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", key, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, seqs := readAll(t, first, 0)
	if len(seqs) != workers*per {
		t.Fatalf("%d events, want %d", len(seqs), workers*per)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("event %d has seq %d: not gapless", i, s)
		}
	}
}

func rollback(t *testing.T, h Harness) {
	s := mustOpen(t, h.Fresh(t))
	tx, err := s.Begin(context.Background(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	tx.Rollback() // idempotent
	if _, seqs := readAll(t, s, 0); len(seqs) != 0 {
		t.Fatalf("rolled back append left %v", seqs)
	}
	if err := commit(t, s, 0, Line(t, 1, "after-rollback")); err != nil {
		t.Fatalf("append after a rollback: %v", err)
	}
}

func durable(t *testing.T, h Harness) {
	open := h.Fresh(t)
	s := open()
	for i := uint64(1); i <= 3; i++ {
		if err := commit(t, s, i-1, Line(t, i, fmt.Sprintf("d%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := readAll(t, s, 0)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	r := mustOpen(t, open)
	got, seqs := readAll(t, r, 0)
	if len(got) != 3 || !bytes.Equal(bytes.Join(got, nil), bytes.Join(want, nil)) {
		t.Fatalf("after reopen: seqs %v, want the 3 committed lines unchanged", seqs)
	}
	if err := commit(t, r, 3, Line(t, 4, "d4")); err != nil {
		t.Fatalf("append after reopen: %v", err)
	}
}

func uniqueKey(t *testing.T, h Harness) {
	s := mustOpen(t, h.Fresh(t))
	if !s.Shared() {
		t.Skip("a local store has one writer: the engine's key index enforces keys (engine tests cover it)")
	}
	if err := commit(t, s, 0, Line(t, 1, "same")); err != nil {
		t.Fatal(err)
	}
	err := commit(t, s, 1, Line(t, 2, "same"))
	if !errors.Is(err, store.ErrDuplicateKey) {
		t.Fatalf("second append with the same key: %v, want ErrDuplicateKey", err)
	}
	if _, seqs := readAll(t, s, 0); len(seqs) != 1 {
		t.Fatalf("store holds %v after a duplicate key, want [1]", seqs)
	}
	if err := commit(t, s, 1, Line(t, 2, "other")); err != nil {
		t.Fatalf("the refused duplicate must not leave a gap: %v", err)
	}
}

func handOver(t *testing.T, h Harness) {
	open := h.Fresh(t)
	a := mustOpen(t, open)
	if !a.Shared() {
		t.Skip("a local store has no other writers to hand over")
	}
	b := mustOpen(t, open)
	if err := commit(t, a, 0, Line(t, 1, "a1"), Line(t, 2, "a2")); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	tx, err := b.Begin(context.Background(), 0, func(ev *event.Envelope) error { got = append(got, ev.Seq); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := <-tx.Commit(Records(t, Line(t, 3, "b3"))); err != nil {
		t.Fatalf("b appends after the handed-over events: %v", err)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("b was handed %v, want [1 2]", got)
	}
	// A handle that appends on a stale view is refused, not gapped or forked.
	if err := commit(t, a, 0, Line(t, 1, "stale")); err == nil {
		// a's Begin handed over 1..3, so seq 1 is wrong; the store refuses it.
		t.Fatal("an append with an already used seq was accepted")
	}
}

// aheadOfStore: an appender whose last seq the shared store does not hold
// (the store lost acknowledged events) is refused with ErrStale instead of
// writing a gap at its next seq.
func aheadOfStore(t *testing.T, h Harness) {
	open := h.Fresh(t)
	s := mustOpen(t, open)
	if !s.Shared() {
		t.Skip("a local store's only appender is the engine, which cannot be ahead of it")
	}
	if err := commit(t, s, 0, Line(t, 1, "k1"), Line(t, 2, "k2")); err != nil {
		t.Fatal(err)
	}
	if err := commit(t, s, 2, Line(t, 3, "k3")); err != nil {
		t.Fatalf("an appender at the store's last seq: %v", err)
	}
	err := commit(t, s, 5, Line(t, 6, "k6"))
	if !errors.Is(err, store.ErrStale) {
		t.Fatalf("an appender at seq 5 of a store holding 1..3: %v, want store.ErrStale", err)
	}
	if _, seqs := readAll(t, s, 0); len(seqs) != 3 || seqs[2] != 3 {
		t.Fatalf("after the refused append the store holds %v, want [1 2 3]", seqs)
	}
}
