package journal

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/creditgate/creditgate/engine/event"
)

// Recovery reads the file with a pipeline: one goroutine reads chunks that
// end on a line boundary, up to four workers decode them (JSON and CRC) in
// parallel, and the scanner takes the decoded lines back in file order.

// scanChunk is a run of whole lines (the last chunk may end in a partial
// line) decoded by one worker.
type scanChunk struct {
	off       int64
	firstLine int
	data      []byte
	recs      []lineRec
	err       error // read error; no data
	decoded   chan struct{}
}

const scanChunkSize = 1 << 20

// scan reads f through the chunk pipeline and hands every line, in file
// order, to s.line, which settles it (replaying valid events through apply)
// or holds it until a later line decides. It changes no file: what recovery
// must change is left in s (held, bad, deps) for recoverJournal.
func (s *scanner) scan(f File) error {
	workers := min(runtime.GOMAXPROCS(0), 4)
	chunks := make(chan *scanChunk, 2*workers)  // to decoders
	ordered := make(chan *scanChunk, 2*workers) // same chunks, file order
	stop := make(chan struct{})
	// Read buffers come back once their lines are classified, so a replay
	// does not allocate the file's size again in buffers.
	free := make(chan []byte, 4*workers)
	var readerDone sync.WaitGroup

	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		defer close(ordered)
		defer close(chunks)
		readChunks(f, free, func(c *scanChunk) bool {
			select {
			case ordered <- c:
			case <-stop:
				return false
			}
			if c.err != nil {
				close(c.decoded)
				return false
			}
			select {
			case chunks <- c:
				return true
			case <-stop:
				close(c.decoded)
				return false
			}
		})
	}()
	for range workers {
		go func() {
			for c := range chunks {
				c.recs = decodeChunk(c)
				close(c.decoded)
			}
		}()
	}
	// Stop and wait for the reader on every exit: the caller closes f next.
	defer func() {
		close(stop)
		for range ordered { // unblock the reader
		}
		readerDone.Wait()
	}()

	for c := range ordered {
		<-c.decoded
		if c.err != nil {
			return fmt.Errorf("journal: read %s: %w", s.path, c.err)
		}
		for i := range c.recs {
			if err := s.line(&c.recs[i]); err != nil {
				return err
			}
		}
		s.size = c.off + int64(len(c.data))
		select { // held lines own copies of their bytes: the buffer is free
		case free <- c.data[:0]:
		default:
		}
	}
	return nil
}

// readChunks reads f sequentially and emits chunks that end on a line
// boundary, except at EOF. A line longer than a chunk grows the chunk.
func readChunks(f File, free <-chan []byte, emit func(*scanChunk) bool) {
	var (
		off      int64
		line     = 1
		leftover []byte
		size     = scanChunkSize
	)
	for {
		var buf []byte
		need := max(size, 2*len(leftover))
		select {
		case b := <-free:
			if cap(b) >= need {
				buf = b[:len(leftover)]
			}
		default:
		}
		if buf == nil {
			buf = make([]byte, len(leftover), need)
		}
		copy(buf, leftover)
		n, err := io.ReadFull(f, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			emit(&scanChunk{off: off, err: err})
			return
		}
		end := len(buf)
		if !eof {
			end = bytes.LastIndexByte(buf, '\n') + 1
			if end == 0 { // one line longer than the buffer: read more
				leftover = buf
				size = 2 * cap(buf)
				continue
			}
		}
		if end > 0 {
			data := buf[:end]
			c := &scanChunk{off: off, firstLine: line, data: data, decoded: make(chan struct{})}
			if !emit(c) {
				return
			}
			off += int64(end)
			line += bytes.Count(data, []byte{'\n'})
		}
		if eof {
			return
		}
		// Copied: buf goes to the decoders and comes back for reuse.
		leftover = append([]byte(nil), buf[end:]...)
		size = scanChunkSize
	}
}

func decodeChunk(c *scanChunk) []lineRec {
	recs := make([]lineRec, 0, bytes.Count(c.data, []byte{'\n'})+1)
	data, off, no := c.data, c.off, c.firstLine
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var raw []byte
		if i < 0 {
			raw = data
		} else {
			raw = data[:i+1]
		}
		recs = append(recs, lineRec{off: off, no: no, raw: raw})
		r := &recs[len(recs)-1]
		if i < 0 {
			r.err = errNoNewline
		} else {
			r.env, r.err = event.Decode(raw)
		}
		data = data[len(raw):]
		off += int64(len(raw))
		no++
	}
	return recs
}
