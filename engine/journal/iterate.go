package journal

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/creditgate/creditgate/engine/event"
)

// Iterate calls fn for every durable line with seq > afterSeq, in file
// order, until fn returns false. It reads through its own handle and only up
// to the durable offset at the time of the call, so it never sees a line
// that is not yet acknowledged. line is valid only during the call. fn must
// not call Close.
func (j *Journal) Iterate(afterSeq uint64, fn func(line []byte, e *event.Envelope) bool) error {
	j.rmu.RLock()
	defer j.rmu.RUnlock()
	if j.rf == nil {
		return ErrClosed
	}
	end := j.durable.Load()
	start := j.startOffset(afterSeq)
	if start >= end { // indexed line not durable yet: nothing durable follows afterSeq
		return nil
	}

	br := bufio.NewReaderSize(io.NewSectionReader(j.rf, start, end-start), 256<<10)
	var long []byte // a line longer than the reader's buffer
	off := start
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("journal: iterate %s at offset %d: %w", j.cfg.Path, off, err)
		}
		e, derr := event.Decode(line)
		if derr != nil {
			return fmt.Errorf("journal: iterate %s at offset %d: %w", j.cfg.Path, off, derr)
		}
		off += int64(len(line))
		if e.Seq > afterSeq && !fn(line, &e) {
			return nil
		}
	}
}

// startOffset returns the offset of the last indexed line whose seq is at
// most afterSeq+1: every line before it has a smaller seq.
func (j *Journal) startOffset(afterSeq uint64) int64 {
	j.imu.Lock()
	defer j.imu.Unlock()
	i := sort.Search(len(j.index), func(i int) bool { return j.index[i].seq > afterSeq+1 })
	if i == 0 {
		return 0
	}
	return j.index[i-1].off
}

// indexBatch adds index entries for the lines of a written batch that
// starts at offset start. Only the writer calls it.
func (j *Journal) indexBatch(batch []submission, start int64) {
	off := start
	for _, s := range batch {
		for _, l := range s.lines {
			if j.events%indexEvery == 0 {
				// The engine encodes seq first; a line without it is simply
				// not indexed (the index only saves reading).
				j.imu.Lock()
				if seq, ok := leadingSeq(l); ok && (len(j.index) == 0 || seq > j.index[len(j.index)-1].seq) {
					j.index = append(j.index, indexEntry{seq: seq, off: off})
				}
				j.imu.Unlock()
			}
			j.events++
			off += int64(len(l))
		}
	}
}

// leadingSeq parses the `{"seq":N` prefix event.Encode writes.
func leadingSeq(line []byte) (uint64, bool) {
	const prefix = `{"seq":`
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return 0, false
	}
	var seq uint64
	digits := 0
	for _, c := range line[len(prefix):] {
		if c < '0' || c > '9' || digits == 20 {
			break
		}
		seq = seq*10 + uint64(c-'0')
		digits++
	}
	return seq, digits > 0
}

// indexEvery is the spacing of the sparse seq→offset index, in events.
const indexEvery = 1024

type indexEntry struct {
	seq uint64
	off int64 // offset of the line holding seq in the current file
}
