package journal_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

var testEpoch = time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)

// envelope returns a realistic credit.consumed event; tx > 1 marks the
// first event of a multi-event command.
func envelope(seq uint64, tx int) *event.Envelope {
	return &event.Envelope{
		Seq:            seq,
		EventID:        fmt.Sprintf("%08x-7d1e-4c2b-9a51-%012x", seq*2654435761%(1<<32), seq),
		EventType:      event.CreditConsumed,
		Timestamp:      testEpoch.Add(time.Duration(seq) * time.Millisecond),
		ActorID:        "agent-17",
		CorrelationID:  fmt.Sprintf("c-%d", seq),
		SchemaVersion:  event.SchemaVersion,
		IdempotencyKey: fmt.Sprintf("k-%d", seq),
		TxSize:         tx,
		Payload:        json.RawMessage(fmt.Sprintf(`{"agent_id":"agent-17","amount_milli":%d,"balance_after_milli":%d,"reason":"llm"}`, 1500+seq%7, 1_000_000-seq)),
	}
}

func line(tb testing.TB, seq uint64, tx int) []byte {
	tb.Helper()
	b, err := event.Encode(envelope(seq, tx))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func lines(tb testing.TB, from, to uint64) [][]byte {
	var out [][]byte
	for s := from; s <= to; s++ {
		out = append(out, line(tb, s, 0))
	}
	return out
}

// testLogger sends journal logs to the test log, so findings are visible
// with -v and never lost.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(bytes.TrimSuffix(p, []byte{'\n'})))
	return len(p), nil
}

func baseConfig(tb testing.TB, path string) journal.Config {
	return journal.Config{
		Path:   path,
		Logger: testLogger(tb),
		Now:    func() time.Time { return testEpoch },
	}
}

// open opens cfg and returns the seqs apply saw, in order.
func open(tb testing.TB, cfg journal.Config) (*journal.Journal, journal.RecoveryReport, []uint64) {
	tb.Helper()
	var seqs []uint64
	j, rep, err := journal.Open(cfg, func(e *event.Envelope) error {
		seqs = append(seqs, e.Seq)
		return nil
	})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return j, rep, seqs
}

// fileSeqs decodes every line of path, failing on any line that does not
// decode: the invariant after recovery is a clean file.
func fileSeqs(tb testing.TB, path string) []uint64 {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var seqs []uint64
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		l, err := r.ReadBytes('\n')
		if err == io.EOF {
			if len(l) > 0 {
				tb.Fatalf("%s: line %d has no newline: %q", path, n, l)
			}
			return seqs
		}
		if err != nil {
			tb.Fatal(err)
		}
		e, err := event.Decode(l)
		if err != nil {
			tb.Fatalf("%s: line %d does not decode after recovery: %v", path, n, err)
		}
		seqs = append(seqs, e.Seq)
	}
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func without(s []uint64, drop ...uint64) []uint64 {
	return slices.DeleteFunc(slices.Clone(s), func(v uint64) bool { return slices.Contains(drop, v) })
}

func writeFile(tb testing.TB, path string, content []byte) {
	tb.Helper()
	if err := os.WriteFile(path, content, 0o644); err != nil {
		tb.Fatal(err)
	}
}
