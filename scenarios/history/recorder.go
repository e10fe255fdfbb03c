package history

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// Recorder is a concurrency-safe client history. It keeps at most Cap
// operations in memory (counting the rest as dropped) and, when streaming
// is on, also writes every operation — dropped ones included — to a JSONL
// file as it is recorded, so a long run's full history is on disk.
type Recorder struct {
	base time.Time

	mu      sync.Mutex
	next    uint64
	cap     int
	ops     []Op
	dropped int64
	file    *os.File
	w       *bufio.Writer
	enc     *json.Encoder
	werr    error

	// windows are the fault injections, on the same clock as the ops.
	windows        []Window
	nextWindow     uint64
	droppedWindows int64
}

// NewRecorder returns a recorder keeping at most capacity operations in
// memory, with its monotonic base now.
func NewRecorder(capacity int) *Recorder { return NewRecorderAt(capacity, time.Now()) }

// NewRecorderAt returns a recorder whose monotonic base is base (a
// time.Now() value, so it carries a monotonic reading).
func NewRecorderAt(capacity int, base time.Time) *Recorder {
	return &Recorder{base: base, cap: max(1, capacity)}
}

// Base is the monotonic base of CallNs and ReturnNs.
func (r *Recorder) Base() time.Time { return r.base }

// Now is the time since the base in nanoseconds (monotonic).
func (r *Recorder) Now() int64 { return int64(time.Since(r.base)) }

// StreamTo writes every operation recorded from now on to path as JSONL
// (closed by Close).
func (r *Recorder) StreamTo(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.file, r.w = f, bufio.NewWriterSize(f, 1<<16)
	r.enc = json.NewEncoder(r.w)
	return nil
}

// Add assigns op the next id (when it has none), records it and returns
// the id.
func (r *Recorder) Add(op Op) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if op.ID == 0 {
		r.next++
		op.ID = r.next
	} else if op.ID > r.next {
		r.next = op.ID
	}
	if r.enc != nil && r.werr == nil {
		r.werr = r.enc.Encode(&op)
	}
	if len(r.ops) >= r.cap {
		r.dropped++
		return op.ID
	}
	r.ops = append(r.ops, op)
	return op.ID
}

// Ops returns a copy of the operations kept in memory, in record order.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Op(nil), r.ops...)
}

// OpsByID returns copies of the operations kept in memory whose ids are in
// ids, in record order; an id not kept (dropped, or never recorded) is
// missing from the result.
func (r *Recorder) OpsByID(ids []uint64) []Op {
	want := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Op, 0, len(ids))
	for _, op := range r.ops {
		if want[op.ID] {
			out = append(out, op)
		}
	}
	return out
}

// Len is the number of operations kept in memory.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops)
}

// Dropped is the number of operations not kept in memory because the
// recorder was full. A judge that needs the whole history must read the
// stream or refuse to conclude when it is not zero.
func (r *Recorder) Dropped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Close flushes and closes the stream (if any) and returns its first error.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil {
		return r.werr
	}
	err := errors.Join(r.werr, r.w.Flush(), r.file.Close())
	r.file, r.w, r.enc, r.werr = nil, nil, nil, err
	return err
}

// WriteJSONL writes the operations kept in memory, one per line.
func (r *Recorder) WriteJSONL(w io.Writer) error {
	return WriteJSONL(w, r.Ops())
}

// WriteJSONL writes ops one per line.
func WriteJSONL(w io.Writer, ops []Op) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	for i := range ops {
		if err := enc.Encode(&ops[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Scan reads JSONL operations from rd and calls fn with each, stopping at
// the first error (fn's included).
func Scan(rd io.Reader, fn func(Op) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(rd, 1<<16))
	for {
		var op Op
		if err := dec.Decode(&op); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := fn(op); err != nil {
			return err
		}
	}
}

// ReadJSONL reads at most limit operations.
func ReadJSONL(rd io.Reader, limit int) ([]Op, error) {
	var out []Op
	errLimit := errors.New("limit")
	err := Scan(rd, func(op Op) error {
		if len(out) >= limit {
			return errLimit
		}
		out = append(out, op)
		return nil
	})
	if err == errLimit {
		err = nil
	}
	return out, err
}
