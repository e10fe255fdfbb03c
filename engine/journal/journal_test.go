package journal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

func TestConfigValidateEnforcesHardLimits(t *testing.T) {
	ok := journal.Config{Path: "x"}
	cases := []struct {
		name  string
		mod   func(*journal.Config)
		field string // "" = valid
	}{
		{"zero value with a path is valid", func(*journal.Config) {}, ""},
		{"default config is valid", func(c *journal.Config) { *c = journal.DefaultConfig("x") }, ""},
		{"limits themselves are valid", func(c *journal.Config) {
			c.MaxBatch, c.MaxWait, c.QueueLen = journal.MaxMaxBatch, journal.MaxMaxWait, journal.MaxQueueLen
		}, ""},
		{"path is required", func(c *journal.Config) { c.Path = "" }, "Path"},
		{"unknown policy", func(c *journal.Config) { c.Recovery = "lenient" }, "Recovery"},
		{"batch above hard limit", func(c *journal.Config) { c.MaxBatch = journal.MaxMaxBatch + 1 }, "MaxBatch"},
		{"negative batch", func(c *journal.Config) { c.MaxBatch = -1 }, "MaxBatch"},
		{"wait above hard limit", func(c *journal.Config) { c.MaxWait = journal.MaxMaxWait + 1 }, "MaxWait"},
		{"negative wait", func(c *journal.Config) { c.MaxWait = -1 }, "MaxWait"},
		{"queue above hard limit", func(c *journal.Config) { c.QueueLen = journal.MaxQueueLen + 1 }, "QueueLen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.field)
			}
			if _, _, err := journal.Open(c, nil); err == nil {
				t.Fatal("Open accepted an invalid config")
			}
		})
	}
}

func TestOpenCreatesMissingFileAndParentDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "storage", "events", "credits.jsonl")
	j, rep, applied := open(t, baseConfig(t, path))
	defer j.Close()
	if !rep.Clean || rep.Events != 0 || len(applied) != 0 {
		t.Fatalf("new journal report %+v, applied %v", rep, applied)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("journal file not created: %v", err)
	}
}

func TestAppendedLinesSurviveReopenInSubmitOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	cfg := baseConfig(t, path)
	j, _, _ := open(t, cfg)
	ctx := context.Background()
	if err := j.Append(ctx, lines(t, 1, 3)); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(ctx, [][]byte{line(t, 4, 2), line(t, 5, 0)}); err != nil {
		t.Fatal(err)
	}
	st := j.Stats()
	if st.Appends != 5 || st.Batches != 2 || st.Syncs != 2 || st.DurableOffset == 0 {
		t.Errorf("stats after two appends: %+v", st)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, rep, applied := open(t, cfg)
	defer j2.Close()
	if !rep.Clean || !slices.Equal(applied, seqRange(1, 5)) {
		t.Fatalf("reopen: report %+v applied %v", rep, applied)
	}
}

// engineSim assigns seq and submits under one lock, as the engine does.
type engineSim struct {
	mu  sync.Mutex
	seq uint64
	j   *journal.Journal
}

func (e *engineSim) append(tb testing.TB) (uint64, <-chan error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return e.seq, e.j.Submit([][]byte{line(tb, e.seq, 0)})
}

func TestConcurrentAppendersWriteEveryLineOnceInSubmitOrder(t *testing.T) {
	for _, wait := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run(fmt.Sprint("maxWait=", wait), func(t *testing.T) { testConcurrentAppenders(t, wait) })
	}
}

func testConcurrentAppenders(t *testing.T, maxWait time.Duration) {
	const writers, perWriter = 64, 200
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	cfg := baseConfig(t, path)
	cfg.MaxWait = maxWait
	cfg.QueueLen = 256 // smaller than the writers' total: exercises backpressure
	j, _, _ := open(t, cfg)
	eng := &engineSim{j: j}

	var wg sync.WaitGroup
	acked := make([][]uint64, writers)
	for w := range writers {
		wg.Go(func() {
			for range perWriter {
				seq, done := eng.append(t)
				if err := <-done; err != nil {
					t.Errorf("append seq %d: %v", seq, err)
					return
				}
				acked[w] = append(acked[w], seq)
			}
		})
	}
	wg.Wait()
	st := j.Stats()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Submit order is seq order, so the file must hold 1..N exactly once, in order.
	if got := fileSeqs(t, path); !slices.Equal(got, seqRange(1, writers*perWriter)) {
		t.Fatalf("file does not hold seq 1..%d once each in order (len %d)", writers*perWriter, len(got))
	}
	for w, s := range acked {
		if !slices.IsSorted(s) || len(s) != perWriter {
			t.Fatalf("writer %d acked %d seqs, sorted=%v", w, len(s), slices.IsSorted(s))
		}
	}
	if st.Appends != writers*perWriter || st.Batches >= st.Appends {
		t.Errorf("no group commit happened: %+v", st)
	}
	t.Logf("stats: %+v", st)
}

func TestIterateReturnsExactlyTheSuffixAfterSeq(t *testing.T) {
	const n = 5000 // spans several sparse index entries
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	cfg := baseConfig(t, path)
	j, _, _ := open(t, cfg)
	ctx := context.Background()
	// Half written before a reopen (index built by replay), half after
	// (index built by the writer).
	for s := uint64(1); s <= n/2; s += 100 {
		if err := j.Append(ctx, lines(t, s, s+99)); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	j, _, _ = open(t, cfg)
	defer j.Close()
	for s := uint64(n/2 + 1); s <= n; s += 100 {
		if err := j.Append(ctx, lines(t, s, s+99)); err != nil {
			t.Fatal(err)
		}
	}
	for _, after := range []uint64{0, 1, 1023, 1024, 1025, 2047, 2048, 2500, 2501, 3073, 4999, 5000, 7000} {
		t.Run(fmt.Sprint("after=", after), func(t *testing.T) {
			var got []uint64
			err := j.Iterate(after, func(l []byte, e *event.Envelope) bool {
				if !bytes.Equal(l, line(t, e.Seq, 0)) {
					t.Fatalf("seq %d: line bytes differ from what was appended", e.Seq)
				}
				got = append(got, e.Seq)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []uint64
			if after < n {
				want = seqRange(after+1, n)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Iterate(%d) returned %d events [%v…], want %d", after, len(got), head(got), len(want))
			}
		})
	}
	t.Run("stops when fn returns false", func(t *testing.T) {
		var got []uint64
		j.Iterate(10, func(_ []byte, e *event.Envelope) bool {
			got = append(got, e.Seq)
			return len(got) < 3
		})
		if !slices.Equal(got, []uint64{11, 12, 13}) {
			t.Fatalf("got %v", got)
		}
	})
}

func head(s []uint64) []uint64 { return s[:min(len(s), 5)] }

func TestCloseDrainsSubmittedLinesAndRefusesLaterOnes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	cfg := baseConfig(t, path)
	cfg.MaxBatch = 1 // many batches still queued when Close is called
	j, _, _ := open(t, cfg)
	var dones []<-chan error
	for s := uint64(1); s <= 300; s++ {
		dones = append(dones, j.Submit([][]byte{line(t, s, 0)}))
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	for i, d := range dones {
		if err := <-d; err != nil {
			t.Fatalf("submission %d: %v", i+1, err)
		}
	}
	if err := <-j.Submit(lines(t, 301, 301)); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("Submit after Close = %v, want ErrClosed", err)
	}
	if err := j.Append(context.Background(), lines(t, 301, 301)); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
	if err := j.Iterate(0, func([]byte, *event.Envelope) bool { return true }); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("Iterate after Close = %v, want ErrClosed", err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := fileSeqs(t, path); !slices.Equal(got, seqRange(1, 300)) {
		t.Fatalf("file holds %d lines, want 300", len(got))
	}
}

func TestCloseRacingSubmitsResolvesEverySubmission(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	cfg := baseConfig(t, path)
	cfg.QueueLen = 4
	j, _, _ := open(t, cfg)
	eng := &engineSim{j: j}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[uint64]bool{}
	for range 16 {
		wg.Go(func() {
			for range 50 {
				seq, done := eng.append(t)
				err := <-done
				if err == nil {
					mu.Lock()
					acked[seq] = true
					mu.Unlock()
				} else if !errors.Is(err, journal.ErrClosed) {
					t.Errorf("seq %d: %v", seq, err)
				}
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	j.Close()
	wg.Wait() // hangs if any submission is never resolved
	for _, s := range fileSeqs(t, path) {
		delete(acked, s)
	}
	if len(acked) > 0 {
		t.Fatalf("%d acknowledged lines missing from the file", len(acked))
	}
}

func TestApplyErrorAbortsOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	writeFile(t, path, bytes.Join(lines(t, 1, 10), nil))
	boom := errors.New("projection refused")
	_, _, err := journal.Open(baseConfig(t, path), func(e *event.Envelope) error {
		if e.Seq == 4 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "seq 4") {
		t.Fatalf("Open = %v, want the apply error naming seq 4", err)
	}
}

func TestLinesLongerThanTheScanChunkReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	big := envelope(2, 0)
	big.Metadata = &event.Metadata{AnomalyReason: strings.Repeat("x", 3<<20)}
	bigLine, err := event.Encode(big)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, slices.Concat(line(t, 1, 0), bigLine, line(t, 3, 0)))
	cfg := baseConfig(t, path)
	j, rep, applied := open(t, cfg)
	defer j.Close()
	if !rep.Clean || !slices.Equal(applied, seqRange(1, 3)) {
		t.Fatalf("report %+v applied %v", rep, applied)
	}
	var got int
	j.Iterate(1, func(l []byte, e *event.Envelope) bool {
		if e.Seq == 2 && !bytes.Equal(l, bigLine) {
			t.Error("Iterate returned the long line changed")
		}
		got++
		return true
	})
	if got != 2 {
		t.Fatalf("Iterate returned %d lines, want 2", got)
	}
}

func TestRecoveryLogsEveryFinding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	ls := lines(t, 1, 6)
	ls[1] = flipMiddle(ls[1])
	writeFile(t, path, slices.Concat(bytes.Join(ls[:3], nil), bytes.Join(ls[4:], nil), []byte("{torn")))
	var buf bytes.Buffer
	cfg := baseConfig(t, path)
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	j, _, _ := open(t, cfg)
	j.Close()
	logs := buf.String()
	for _, want := range []string{"quarantining corrupt line", "line=2", "seq gap", "after_seq=3", "torn tail"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestTornSidecarNeverOverwritesAnEarlierOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	cfg := baseConfig(t, path)
	for i, tail := range []string{"{first", "{second"} {
		writeFile(t, path, append(bytes.Join(lines(t, 1, 2), nil), tail...))
		j, rep, _ := open(t, cfg)
		j.Close()
		want := path + ".torn-20261127T010203Z"
		if i == 1 {
			want += "-2"
		}
		if rep.TornTail == nil || rep.TornTail.Sidecar != want {
			t.Fatalf("tear %d: sidecar %+v, want %s", i+1, rep.TornTail, want)
		}
		if got, _ := os.ReadFile(want); string(got) != tail {
			t.Fatalf("sidecar %s holds %q, want %q", want, got, tail)
		}
	}
}
