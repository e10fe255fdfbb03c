package journal_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/chaos/faultfs"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

func TestWriteAndSyncErrorsAreStickyAndNeverRetried(t *testing.T) {
	cases := []struct {
		name    string
		inject  func(fs *faultfs.FS)
		wantErr string
		// crash: drop unsynced bytes before reopening, as power loss would.
		crash bool
	}{
		{"write error", func(fs *faultfs.FS) {
			fs.SetInjector(faultfs.OnNth(faultfs.OpWrite, 1, faultfs.ErrInjected))
		}, "journal: write failed", false},
		{"sync error", func(fs *faultfs.FS) {
			fs.SetInjector(faultfs.OnNth(faultfs.OpSync, 1, faultfs.ErrInjected))
		}, "journal: sync failed", true},
		{"short write", func(fs *faultfs.FS) { fs.ShortWriteNext(17) }, "journal: write failed", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credits.jsonl")
			fs := faultfs.New(nil, nil)
			cfg := baseConfig(t, path)
			cfg.FS = fs
			j, _, _ := open(t, cfg)
			ctx := context.Background()
			if err := j.Append(ctx, lines(t, 1, 2)); err != nil {
				t.Fatal(err)
			}
			tc.inject(fs)
			err := j.Append(ctx, lines(t, 3, 4))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("faulty append = %v, want %q", err, tc.wantErr)
			}
			if !errors.Is(j.Err(), err) && j.Err().Error() != err.Error() {
				t.Fatalf("Err() = %v, want the append's error %v", j.Err(), err)
			}
			writes, syncs := fs.Calls(faultfs.OpWrite), fs.Calls(faultfs.OpSync)
			fs.SetInjector(nil) // the disk "recovers": the journal must still refuse
			for s := uint64(5); s <= 7; s++ {
				if err2 := j.Append(ctx, lines(t, s, s)); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("later append = %v, want the same sticky error %v", err2, err)
				}
			}
			if w, s := fs.Calls(faultfs.OpWrite), fs.Calls(faultfs.OpSync); w != writes || s != syncs {
				t.Fatalf("after the failure: writes %d→%d, syncs %d→%d; want no retry", writes, w, syncs, s)
			}
			st := j.Stats()
			if st.Appends != 2 || st.SyncErrors+st.WriteErrors != 1 {
				t.Errorf("stats: %+v", st)
			}
			if cerr := j.Close(); cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("Close = %v, want the sticky error", cerr)
			}
			if tc.crash {
				if err := fs.Crash(); err != nil {
					t.Fatal(err)
				}
			}

			// Recovery keeps exactly the acknowledged lines; a partial
			// write is cut as a torn tail.
			cfg.FS = faultfs.New(nil, nil)
			j2, rep, applied := open(t, cfg)
			defer j2.Close()
			if !slices.Equal(applied, seqRange(1, 2)) {
				t.Fatalf("recovered %v, want the acknowledged 1..2", applied)
			}
			if tc.name == "short write" {
				if rep.TornTail == nil || rep.TornTail.Bytes != 17 {
					t.Fatalf("short write should leave a 17-byte torn tail, report %+v", rep.TornTail)
				}
			} else if !rep.Clean {
				t.Fatalf("recovery not clean: %+v", rep)
			}
			if err := j2.Append(ctx, lines(t, 3, 3)); err != nil {
				t.Fatalf("append after recovery: %v", err)
			}
		})
	}
}

func TestCrashNeverLosesAnAcknowledgedAppend(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "credits.jsonl")
		fs := faultfs.New(nil, nil)
		cfg := baseConfig(t, path)
		cfg.FS = fs
		cfg.Logger = quiet()
		j, _, _ := open(t, cfg)
		eng := &engineSim{j: j}

		var (
			mu    sync.Mutex
			acked []uint64
			wg    sync.WaitGroup
			stop  atomic.Bool
		)
		for range 16 {
			wg.Go(func() {
				for !stop.Load() {
					seq, done := eng.append(t)
					if err := <-done; err != nil {
						return // crashed: unknown outcome, not acknowledged
					}
					mu.Lock()
					acked = append(acked, seq)
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(20+round*15) * time.Millisecond)
		if err := fs.Crash(); err != nil {
			t.Fatal(err)
		}
		stop.Store(true)
		wg.Wait()
		j.Close()

		cfg.FS = faultfs.New(nil, nil)
		j2, rep, applied := open(t, cfg)
		j2.Close()
		if len(acked) == 0 {
			t.Fatal("nothing was acknowledged before the crash")
		}
		// Every acknowledged seq survived; what survived is gapless from 1.
		slices.Sort(acked)
		if !slices.Equal(applied, seqRange(1, uint64(len(applied)))) {
			t.Fatalf("round %d: recovered seqs are not 1..n", round)
		}
		if last := acked[len(acked)-1]; uint64(len(applied)) < last {
			t.Fatalf("round %d: acknowledged up to seq %d, only %d survived", round, last, len(applied))
		}
		if !rep.Clean {
			t.Fatalf("round %d: reopen after crash not clean: %+v", round, rep)
		}
		t.Logf("round %d: %d acked, %d survived (submitted %d)", round, len(acked), len(applied), eng.seq)
	}
}

// blockingSync blocks the journal's syncs while armed, until released.
type blockingSync struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func newBlockingSync() *blockingSync {
	return &blockingSync{entered: make(chan struct{}, 1000), release: make(chan struct{})}
}

func (b *blockingSync) MaybeError(op faultfs.Op, path string) error {
	if op == faultfs.OpSync && b.armed.Load() {
		b.entered <- struct{}{}
		<-b.release
	}
	return nil
}

func TestSubmitBlocksWhileTheQueueIsFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	bs := newBlockingSync()
	cfg := baseConfig(t, path)
	cfg.FS = faultfs.New(nil, bs)
	cfg.QueueLen = 2
	j, _, _ := open(t, cfg)
	defer j.Close()
	bs.armed.Store(true)

	first := j.Submit(lines(t, 1, 1))
	<-bs.entered // the writer holds batch 1 in its sync
	q1, q2 := j.Submit(lines(t, 2, 2)), j.Submit(lines(t, 3, 3))
	blocked := make(chan (<-chan error))
	go func() { blocked <- j.Submit(lines(t, 4, 4)) }()
	select {
	case <-blocked:
		t.Fatal("Submit returned although the queue was full")
	case <-time.After(50 * time.Millisecond):
	}
	if st := j.Stats(); st.QueueLen != 2 {
		t.Errorf("queue_len = %d, want 2", st.QueueLen)
	}
	bs.armed.Store(false)
	close(bs.release)
	fourth := <-blocked
	for i, d := range []<-chan error{first, q1, q2, fourth} {
		if err := <-d; err != nil {
			t.Fatalf("submission %d: %v", i+1, err)
		}
	}
}

func TestGroupCommitWritesQueuedSubmissionsInOneBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	bs := newBlockingSync()
	fs := faultfs.New(nil, bs)
	cfg := baseConfig(t, path)
	cfg.FS = fs
	j, _, _ := open(t, cfg)
	defer j.Close()
	bs.armed.Store(true)
	first := j.Submit(lines(t, 1, 1))
	<-bs.entered
	var dones []<-chan error
	for s := uint64(2); s <= 101; s++ {
		dones = append(dones, j.Submit(lines(t, s, s)))
	}
	writes := fs.Calls(faultfs.OpWrite)
	bs.armed.Store(false)
	close(bs.release)
	<-first
	for _, d := range dones {
		if err := <-d; err != nil {
			t.Fatal(err)
		}
	}
	if w := fs.Calls(faultfs.OpWrite) - writes; w != 1 {
		t.Errorf("100 queued submissions took %d writes, want 1", w)
	}
	if st := j.Stats(); st.MaxBatch != 100 || st.Batches != 2 {
		t.Errorf("stats %+v, want one batch of 100 after the first", st)
	}
}

func TestIterateNeverReturnsAnUnsyncedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	bs := newBlockingSync()
	cfg := baseConfig(t, path)
	cfg.FS = faultfs.New(nil, bs)
	j, _, _ := open(t, cfg)
	defer j.Close()
	if err := j.Append(context.Background(), lines(t, 1, 3)); err != nil {
		t.Fatal(err)
	}
	bs.armed.Store(true)
	pending := j.Submit(lines(t, 4, 5))
	<-bs.entered // written, not yet synced
	if fi, _ := os.Stat(path); fi.Size() <= j.Stats().DurableOffset {
		t.Fatal("test setup: the batch should be written already")
	}
	var got []uint64
	j.Iterate(0, func(_ []byte, e *event.Envelope) bool { got = append(got, e.Seq); return true })
	if !slices.Equal(got, seqRange(1, 3)) {
		t.Fatalf("Iterate during sync returned %v, want only the synced 1..3", got)
	}
	bs.armed.Store(false)
	close(bs.release)
	if err := <-pending; err != nil {
		t.Fatal(err)
	}
	got = nil
	j.Iterate(0, func(_ []byte, e *event.Envelope) bool { got = append(got, e.Seq); return true })
	if !slices.Equal(got, seqRange(1, 5)) {
		t.Fatalf("Iterate after sync returned %v, want 1..5", got)
	}
}

func TestRecoveryFailureToKeepTheTornTailChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	content := append(bytes.Join(lines(t, 1, 3), nil), "{torn"...)
	writeFile(t, path, content)
	cfg := baseConfig(t, path)
	cfg.FS = faultfs.New(nil, faultfs.OnPathSuffix(".torn-20261127T010203Z.tmp",
		faultfs.Always(faultfs.OpSync, faultfs.ErrInjected)))
	if _, _, err := journal.Open(cfg, func(*event.Envelope) error { return nil }); !errors.Is(err, faultfs.ErrInjected) {
		t.Fatalf("Open = %v, want the sidecar sync failure", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Fatal("the journal was cut although its torn bytes were not kept durably")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("a sidecar that was not durable was left behind: %v", entries)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// chaos/faultfs declares the journal's FS seam itself (it must not import
// the engine); this keeps the two declarations one type.
var _ journal.FS = (*faultfs.FS)(nil)
