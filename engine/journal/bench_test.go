package journal_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

// BenchmarkAppend compares group commit with one fsync per event on a real
// file with real fdatasync, at several counts of concurrent appenders. Each
// appender appends one event and waits for it, like a request handler.
func BenchmarkAppend(b *testing.B) {
	pool := make([][]byte, 1024)
	for i := range pool {
		pool[i] = line(b, uint64(i+1), 0)
	}
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"group", 0}, {"perEvent", 1}} {
		for _, conc := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("%s/conc=%d", mode.name, conc), func(b *testing.B) {
				cfg := journal.Config{
					Path:     filepath.Join(b.TempDir(), "credits.jsonl"),
					MaxBatch: mode.maxBatch,
					Logger:   quiet(),
				}
				j, _, err := journal.Open(cfg, func(*event.Envelope) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				defer j.Close()
				var next atomic.Int64
				var wg sync.WaitGroup
				ctx := context.Background()
				b.ResetTimer()
				for range conc {
					wg.Go(func() {
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							if err := j.Append(ctx, [][]byte{pool[i%int64(len(pool))]}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				st := j.Stats()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(st.Appends)/float64(max(st.Syncs, 1)), "events/sync")
			})
		}
	}
}

// BenchmarkReplay opens a 1M-event journal of realistic credit.consumed
// lines: recovery scan, parallel decode and apply in seq order.
func BenchmarkReplay(b *testing.B) {
	const events = 1_000_000
	path := filepath.Join(b.TempDir(), "credits.jsonl")
	size := writeJournal(b, path, events)
	b.SetBytes(size)
	cfg := journal.Config{Path: path, Logger: quiet()}
	var total int64
	for b.Loop() {
		var n int64
		j, rep, err := journal.Open(cfg, func(e *event.Envelope) error {
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		j.Close()
		if n != events || !rep.Clean {
			b.Fatalf("replayed %d events, clean=%v", n, rep.Clean)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/events, "bytes/event")
}

func writeJournal(b *testing.B, path string, events uint64) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var size int64
	for s := uint64(1); s <= events; s++ {
		l := line(b, s, 0)
		size += int64(len(l))
		w.Write(l)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return size
}
