package specbackend

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
)

// keyIndex maps client idempotency keys to the seq of their command's first event, on
// disk, so retained keys cost no process memory (the file lives in the page cache, which
// is not the process's RSS). It is an open-addressing table of 16-byte slots
// (8 bytes key hash, 8 bytes seq), linear probing, in a sparse file that starts large
// and doubles at 60% load. It is rebuilt from the journal at every start and never
// synced: the journal is the truth. A hash match is only a candidate; the caller
// verifies it against the journal line. Not safe for concurrent use: the engine mutex
// guards it.
type keyIndex struct {
	path  string
	f     *os.File
	slots uint64
	count uint64
	buf   []byte
	mem   map[uint64][]int64 // memory fallback (no file)
}

const slotBytes = 16
const probeWindow = 16 // slots read per pread

func keyHash(key string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, key)
	v := h.Sum64()
	if v == 0 {
		v = 1 // 0 marks an empty slot
	}
	return v
}

func createKeyIndex(path string, slots uint64) (*keyIndex, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("keyindex: %w", err)
	}
	if err := f.Truncate(int64(slots * slotBytes)); err != nil {
		f.Close()
		return nil, fmt.Errorf("keyindex: %w", err)
	}
	return &keyIndex{path: path, f: f, slots: slots, buf: make([]byte, probeWindow*slotBytes)}, nil
}

// probe calls fn for each occupied slot starting at h's home slot until fn returns true
// or an empty slot is reached; it returns the index of that empty slot.
func (ki *keyIndex) probe(h uint64, fn func(slot uint64, seq int64) bool) (uint64, bool, error) {
	mask := ki.slots - 1
	i := h & mask
	for n := uint64(0); n < ki.slots; {
		w := min(probeWindow, ki.slots-i)
		b := ki.buf[:w*slotBytes]
		if _, err := ki.f.ReadAt(b, int64(i*slotBytes)); err != nil {
			return 0, false, fmt.Errorf("keyindex: read: %w", err)
		}
		for j := uint64(0); j < w; j++ {
			sh := binary.LittleEndian.Uint64(b[j*slotBytes:])
			if sh == 0 {
				return i + j, false, nil
			}
			if sh == h && fn(i+j, int64(binary.LittleEndian.Uint64(b[j*slotBytes+8:]))) {
				return i + j, true, nil
			}
		}
		n += w
		i = (i + w) & mask
	}
	return 0, false, fmt.Errorf("keyindex: table full")
}

func (ki *keyIndex) insert(h uint64, seq int64) error {
	if ki.mem != nil {
		ki.mem[h] = append(ki.mem[h], seq)
		ki.count++
		return nil
	}
	if (ki.count+1)*10 > ki.slots*6 {
		if err := ki.grow(); err != nil {
			return err
		}
	}
	slot, _, err := ki.probe(h, func(uint64, int64) bool { return false })
	if err != nil {
		return err
	}
	var b [slotBytes]byte
	binary.LittleEndian.PutUint64(b[:], h)
	binary.LittleEndian.PutUint64(b[8:], uint64(seq))
	if _, err := ki.f.WriteAt(b[:], int64(slot*slotBytes)); err != nil {
		return fmt.Errorf("keyindex: write: %w", err)
	}
	ki.count++
	return nil
}

// lookup returns the seq of the entry for h that verify accepts.
func (ki *keyIndex) lookup(h uint64, verify func(seq int64) bool) (int64, bool, error) {
	if ki.mem != nil {
		for _, seq := range ki.mem[h] {
			if verify(seq) {
				return seq, true, nil
			}
		}
		return 0, false, nil
	}
	var found int64
	_, ok, err := ki.probe(h, func(_ uint64, seq int64) bool {
		if verify(seq) {
			found = seq
			return true
		}
		return false
	})
	return found, ok, err
}

func (ki *keyIndex) grow() error {
	nk, err := createKeyIndex(ki.path+".grow", ki.slots*2)
	if err != nil {
		return err
	}
	chunk := make([]byte, 1<<20)
	for off := int64(0); off < int64(ki.slots*slotBytes); off += int64(len(chunk)) {
		n, err := ki.f.ReadAt(chunk, off)
		if err != nil && err != io.EOF {
			nk.close()
			return fmt.Errorf("keyindex: grow: %w", err)
		}
		for j := 0; j+slotBytes <= n; j += slotBytes {
			if h := binary.LittleEndian.Uint64(chunk[j:]); h != 0 {
				if err := nk.insert(h, int64(binary.LittleEndian.Uint64(chunk[j+8:]))); err != nil {
					nk.close()
					return err
				}
			}
		}
	}
	if err := os.Rename(nk.path, ki.path); err != nil {
		nk.close()
		return fmt.Errorf("keyindex: grow: %w", err)
	}
	ki.f.Close()
	ki.f, ki.slots, ki.count = nk.f, nk.slots, nk.count
	return nil
}

// bulkLoad builds a fresh table in memory from (hash, seq) pairs, writes it with one
// write and returns the memory to the OS (used once, after replay).
func bulkLoad(path string, minSlots uint64, hashes []uint64, seqs []int64) (*keyIndex, error) {
	slots := minSlots
	for uint64(len(hashes))*10 > slots*6 {
		slots *= 2
	}
	ki, err := createKeyIndex(path, slots)
	if err != nil {
		return nil, err
	}
	if len(hashes) == 0 {
		return ki, nil
	}
	table := make([]byte, slots*slotBytes)
	mask := slots - 1
	for i, h := range hashes {
		j := h & mask
		for binary.LittleEndian.Uint64(table[j*slotBytes:]) != 0 {
			j = (j + 1) & mask
		}
		binary.LittleEndian.PutUint64(table[j*slotBytes:], h)
		binary.LittleEndian.PutUint64(table[j*slotBytes+8:], uint64(seqs[i]))
	}
	const page = 4096
	for off := 0; off < len(table); off += page {
		chunk := table[off:min(off+page, len(table))]
		empty := true
		for _, b := range chunk {
			if b != 0 {
				empty = false
				break
			}
		}
		if empty {
			continue // the sparse file already reads zeros there
		}
		if err := fsOp("write", path); err != nil {
			ki.close()
			return nil, fmt.Errorf("keyindex: bulk write: %w", err)
		}
		if _, err := ki.f.WriteAt(chunk, int64(off)); err != nil {
			ki.close()
			return nil, fmt.Errorf("keyindex: bulk write: %w", err)
		}
	}
	ki.count = uint64(len(hashes))
	table = nil
	debug.FreeOSMemory()
	return ki, nil
}

func (ki *keyIndex) close() {
	if ki.f != nil {
		ki.f.Close()
	}
}

// memKeyIndex is the fallback when the index file cannot be written at start (disk full):
// the retained keys stay in memory for this run, so the engine still starts.
func memKeyIndex(hashes []uint64, seqs []int64) *keyIndex {
	ki := &keyIndex{mem: make(map[uint64][]int64, len(hashes))}
	for i, h := range hashes {
		ki.mem[h] = append(ki.mem[h], seqs[i])
	}
	ki.count = uint64(len(hashes))
	return ki
}

// reopenKeyIndex opens the key index file of an earlier run as is, or returns nil when
// there is none usable (DefectH9KeyIndexReusedAtStart).
func reopenKeyIndex(path string, count uint64) *keyIndex {
	f, err := os.OpenFile(path, os.O_RDWR, 0o644)
	if err != nil {
		return nil
	}
	fi, err := f.Stat()
	slots := uint64(0)
	if err == nil {
		slots = uint64(fi.Size()) / slotBytes
	}
	if err != nil || fi.Size()%slotBytes != 0 || slots < 1024 || slots&(slots-1) != 0 {
		f.Close()
		return nil
	}
	return &keyIndex{path: path, f: f, slots: slots, count: count, buf: make([]byte, probeWindow*slotBytes)}
}
