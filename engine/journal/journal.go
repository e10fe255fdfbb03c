package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditgate/creditgate/engine/event"
)

// ErrClosed is returned for submissions after Close.
var ErrClosed = errors.New("journal: closed")

// slowSync is the fdatasync duration worth a warning (etcd warns at 1s).
const slowSync = time.Second

// Journal is an open journal file: one writer goroutine appends submitted
// lines with group commit; Iterate reads durable lines concurrently.
//
// Concurrency: all methods are safe for concurrent use. Lines are written
// in the order Submit was called; callers that need a global order (the
// engine's seq) must call Submit under their own lock.
type Journal struct {
	cfg Config
	log *slog.Logger

	wf    File // write handle, owned by the writer goroutine
	queue chan submission

	mu         sync.Mutex // guards closed and the Add side of submitters
	closed     bool
	submitters sync.WaitGroup // Submits between the closed check and the send
	stopped    chan struct{}  // closed when the writer has exited
	closeOnce  sync.Once
	closeErr   error

	sticky atomic.Pointer[error]

	rmu sync.RWMutex // guards rf; Iterate holds it shared, Close exclusively
	rf  File         // read handle for Iterate (ReadAt only)
	// imu guards index apart from rmu, so a slow Iterate callback never
	// stalls the writer.
	imu     sync.Mutex
	index   []indexEntry
	events  uint64 // events in the file; writer only, for index spacing
	durable atomic.Int64

	stats struct {
		appends, batches, syncs, bytes, syncErrors, writeErrors atomic.Uint64
		maxBatch, lastSyncMicros                                atomic.Int64
	}
}

type submission struct {
	lines [][]byte
	done  chan error
}

// Stats are the journal's counters, served as JSON.
type Stats struct {
	Appends        uint64 `json:"appends"` // events written and acknowledged
	Batches        uint64 `json:"batches"` // group commits (one write each)
	Syncs          uint64 `json:"syncs"`   // fdatasync calls, failed ones included
	Bytes          uint64 `json:"bytes"`   // bytes appended since Open
	SyncErrors     uint64 `json:"sync_errors"`
	WriteErrors    uint64 `json:"write_errors"`
	MaxBatch       int64  `json:"max_batch"` // most events in one group commit
	LastSyncMicros int64  `json:"last_sync_micros"`
	QueueLen       int    `json:"queue_len"` // submissions waiting for the writer
	DurableOffset  int64  `json:"durable_offset"`
}

// Open recovers the journal at cfg.Path (creating it if absent), replays
// every valid event in seq order through apply, and returns it ready for
// appends. An apply error aborts Open. Under PolicyStrict mid-file
// corruption returns a *CorruptionError.
func Open(cfg Config, apply func(e *event.Envelope) error) (*Journal, RecoveryReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, RecoveryReport{Path: cfg.Path}, err
	}
	cfg = cfg.withDefaults()
	rec, err := recoverJournal(cfg, apply)
	rep := rec.report
	if err != nil {
		return nil, rep, err
	}
	if !rep.Clean {
		cfg.Logger.Warn("journal recovered with findings", "file", cfg.Path, "events", rep.Events,
			"torn_tail", rep.TornTail != nil, "quarantined", len(rep.Quarantined), "gaps", len(rep.Gaps))
	}

	wf, err := cfg.FS.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, rep, fmt.Errorf("journal: open %s for append: %w", cfg.Path, err)
	}
	// What was replayed may still sit unsynced in the page cache from a
	// process that crashed; sync it before anything built on it is acked.
	if !cfg.NoSync {
		if err := wf.Sync(); err != nil {
			wf.Close()
			return nil, rep, fmt.Errorf("journal: sync %s on open: %w", cfg.Path, err)
		}
	}
	rf, err := cfg.FS.OpenFile(cfg.Path, os.O_RDONLY, 0)
	if err != nil {
		wf.Close()
		return nil, rep, fmt.Errorf("journal: open %s for reading: %w", cfg.Path, err)
	}
	j := &Journal{
		cfg:     cfg,
		log:     cfg.Logger,
		wf:      wf,
		rf:      rf,
		queue:   make(chan submission, cfg.QueueLen),
		stopped: make(chan struct{}),
		index:   rec.index,
		events:  rep.Events,
	}
	j.durable.Store(rec.size)
	go j.run()
	return j, rep, nil
}

// Submit enqueues already-encoded lines (each ending in '\n') to be written
// in this order, after every earlier submission. The returned channel gets
// exactly one value: nil once the lines are written and synced, or the
// error. Submit blocks while the queue is full. After a sticky error or
// Close the channel is already resolved.
func (j *Journal) Submit(lines [][]byte) <-chan error {
	done := make(chan error, 1)
	if err := j.Err(); err != nil {
		done <- err
		return done
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		done <- ErrClosed
		return done
	}
	j.submitters.Add(1)
	j.mu.Unlock()
	// The writer drains the queue until Close closes it, and Close waits for
	// us first, so this send cannot block forever.
	j.queue <- submission{lines: lines, done: done}
	j.submitters.Done()
	return done
}

// Append submits lines and waits for the result. If ctx ends first it
// returns ctx.Err(); the lines may still be written.
func (j *Journal) Append(ctx context.Context, lines [][]byte) error {
	select {
	case err := <-j.Submit(lines):
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns the sticky write/sync error, nil while healthy.
func (j *Journal) Err() error {
	if p := j.sticky.Load(); p != nil {
		return *p
	}
	return nil
}

// Close writes and syncs everything already submitted, stops the writer and
// closes the file. It is idempotent; later calls return the first result.
// It must not be called from inside an Iterate callback.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() {
		j.mu.Lock()
		j.closed = true
		j.mu.Unlock()
		j.submitters.Wait()
		close(j.queue)
		<-j.stopped

		err := j.wf.Close()
		j.rmu.Lock()
		if rerr := j.rf.Close(); err == nil {
			err = rerr
		}
		j.rf = nil
		j.rmu.Unlock()
		if err != nil {
			err = fmt.Errorf("journal: close: %w", err)
		}
		if serr := j.Err(); serr != nil {
			err = serr // the write error matters more than a close error
		}
		j.closeErr = err
	})
	return j.closeErr
}

// Stats returns a snapshot of the counters.
func (j *Journal) Stats() Stats {
	return Stats{
		Appends:        j.stats.appends.Load(),
		Batches:        j.stats.batches.Load(),
		Syncs:          j.stats.syncs.Load(),
		Bytes:          j.stats.bytes.Load(),
		SyncErrors:     j.stats.syncErrors.Load(),
		WriteErrors:    j.stats.writeErrors.Load(),
		MaxBatch:       j.stats.maxBatch.Load(),
		LastSyncMicros: j.stats.lastSyncMicros.Load(),
		QueueLen:       len(j.queue),
		DurableOffset:  j.durable.Load(),
	}
}

// run is the single writer goroutine.
func (j *Journal) run() {
	defer close(j.stopped)
	var (
		batch []submission
		buf   []byte
		timer *time.Timer
	)
	for {
		first, ok := <-j.queue
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		n := len(first.lines)
		open := true
		var deadline <-chan time.Time
		if j.cfg.MaxWait > 0 {
			if timer == nil {
				timer = time.NewTimer(j.cfg.MaxWait)
			} else {
				timer.Reset(j.cfg.MaxWait)
			}
			deadline = timer.C
		}
	fill:
		for n < j.cfg.MaxBatch {
			// Take what is already queued first; only with nothing queued
			// wait, until the deadline, for the next submission.
			var s submission
			select {
			case s, ok = <-j.queue:
			default:
				if deadline == nil {
					break fill
				}
				select {
				case s, ok = <-j.queue:
				case <-deadline:
					deadline = nil
					break fill
				}
			}
			if !ok {
				open = false
				break fill
			}
			batch = append(batch, s)
			n += len(s.lines)
		}
		if timer != nil && deadline != nil {
			timer.Stop()
		}
		buf = j.commit(batch, buf[:0])
		clear(batch) // do not pin submitted lines until the next batch
		if !open {
			return
		}
	}
}

// commit writes a batch with one write and one sync and resolves it. After
// a failure nothing is ever written or synced again.
func (j *Journal) commit(batch []submission, buf []byte) []byte {
	err := j.Err()
	if err == nil {
		start := j.durable.Load()
		events := 0
		for _, s := range batch {
			for _, l := range s.lines {
				buf = append(buf, l...)
				events++
			}
		}
		err = j.writeAndSync(buf)
		if err == nil {
			j.indexBatch(batch, start)
			j.durable.Store(start + int64(len(buf)))
			j.stats.appends.Add(uint64(events))
			j.stats.batches.Add(1)
			j.stats.bytes.Add(uint64(len(buf)))
			if int64(events) > j.stats.maxBatch.Load() {
				j.stats.maxBatch.Store(int64(events))
			}
		}
	}
	for _, s := range batch {
		s.done <- err
	}
	// Keep the buffer for the next batch unless one huge batch inflated it.
	if cap(buf) > 64<<20 {
		return nil
	}
	return buf
}

func (j *Journal) writeAndSync(buf []byte) error {
	n, err := j.wf.Write(buf)
	if err == nil && n < len(buf) {
		err = fmt.Errorf("%w: %d of %d bytes", io.ErrShortWrite, n, len(buf))
	}
	if err != nil {
		j.stats.writeErrors.Add(1)
		return j.fail(fmt.Errorf("journal: write failed: %w", err))
	}
	if j.cfg.NoSync {
		return nil
	}
	t0 := time.Now()
	err = j.wf.Sync()
	d := time.Since(t0)
	j.stats.syncs.Add(1)
	j.stats.lastSyncMicros.Store(d.Microseconds())
	if d > slowSync {
		j.log.Warn("journal: slow fdatasync", "file", j.cfg.Path, "duration", d, "bytes", len(buf))
	}
	if err != nil {
		// Never retried: after a failed fsync the kernel may have dropped
		// the dirty pages, so a later success would prove nothing.
		j.stats.syncErrors.Add(1)
		return j.fail(fmt.Errorf("journal: sync failed: %w", err))
	}
	return nil
}

func (j *Journal) fail(err error) error {
	j.sticky.CompareAndSwap(nil, &err)
	j.log.Error("journal: append failed; refusing every later append", "file", j.cfg.Path, "err", err)
	return *j.sticky.Load()
}
