package keyindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketKeys = []byte("keys") // client key → record
	bucketSeqs = []byte("seqs") // big-endian primary seq → client key (for Purge)
	bucketMeta = []byte("meta")
	metaSeq    = []byte("seq")      // big-endian seq the index covers
	metaID     = []byte("event_id") // event id at that seq
	metaFormat = []byte("format")
)

// format changes when the record encoding does; an index of another format
// is dropped and rebuilt.
const format = "1"

// ErrCorrupt: the file is not an index this package wrote.
var ErrCorrupt = errors.New("keyindex: index file is corrupt")

// Record is what the index keeps per client key.
type Record struct {
	Hash    string // the request hash of the transaction
	Seq     uint64 // the primary event's seq
	EventID string // the primary event's id
	At      time.Time
	Events  int // events of the transaction: seq … seq+Events-1
}

// Meta says how far the index covers the journal: every client key whose
// primary seq is at most Seq (and that had not expired) is in the index.
// EventID is the primary event id at Seq, so an index that does not belong
// to the journal it sits next to is detected.
type Meta struct {
	Seq     uint64
	EventID string
}

// Entry is one key to Put.
type Entry struct {
	Key string
	Record
}

// Disk is an open index file.
type Disk struct {
	db   *bolt.DB
	path string
}

// Open opens or creates the index at path. A file that cannot be opened as
// an index (corrupt, foreign, another format) or that covers nothing (Meta
// zero: new, or left by an unsynced rebuild that did not finish) is removed
// and recreated empty: the caller then builds it from a replay, and never
// reads pages no sync vouched for.
func Open(path string) (*Disk, Meta, error) {
	d, m, err := open(path)
	if err == nil && m.Seq > 0 {
		return d, m, nil
	}
	if d != nil {
		_ = d.db.Close()
	}
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return nil, Meta{}, fmt.Errorf("keyindex: remove unusable %s: %v (after %v)", path, rerr, err)
	}
	return open(path)
}

func open(path string) (d *Disk, m Meta, err error) {
	// bbolt panics on some corrupt pages; a corrupt cache must not stop
	// the engine from starting.
	defer func() {
		if r := recover(); r != nil {
			if d != nil {
				_ = d.db.Close()
			}
			d, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, Meta{}, fmt.Errorf("keyindex: open %s: %w", path, err)
	}
	d = &Disk{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta != nil && string(meta.Get(metaFormat)) != format {
			return fmt.Errorf("%w: format %q, want %q", ErrCorrupt, meta.Get(metaFormat), format)
		}
		for _, b := range [][]byte{bucketKeys, bucketSeqs, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta = tx.Bucket(bucketMeta)
		if err := meta.Put(metaFormat, []byte(format)); err != nil {
			return err
		}
		if v := meta.Get(metaSeq); len(v) == 8 {
			m.Seq = binary.BigEndian.Uint64(v)
			m.EventID = string(meta.Get(metaID))
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, Meta{}, fmt.Errorf("keyindex: %s: %w", path, err)
	}
	return d, m, nil
}

// Release drops the index file's pages from the process's resident set.
// bbolt reads through one shared, read-only mapping of the whole file, so
// every page a lookup or a Put touched stays in the engine's RSS until
// bbolt remaps the file: with a day of retained keys that is up to the
// file's size, and memory grows with the keys the disk was meant to hold.
// The pages stay in the kernel's page cache; the next lookup maps the few
// it needs again (a minor fault). It runs inside a read transaction: bbolt
// remaps only when no read transaction is open, so the mapping cannot move
// while it is advised. Errors are ignored: the pages then merely stay.
func (d *Disk) Release() {
	_ = d.db.View(func(tx *bolt.Tx) error {
		return dropResident(d.db.Info().Data, tx.Size())
	})
}

// Path is the index file.
func (d *Disk) Path() string { return d.path }

// SetNoSync turns fsync of each Put off (a rebuild) or back on; Sync
// flushes what was written meanwhile.
func (d *Disk) SetNoSync(on bool) { d.db.NoSync = on }

// Sync flushes the file.
func (d *Disk) Sync() error { return d.db.Sync() }

// Get returns the record of key.
func (d *Disk) Get(key string) (r Record, ok bool, err error) {
	err = d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(key))
		if v == nil {
			return nil
		}
		r, err = decode(v)
		ok = err == nil
		return err
	})
	return r, ok, err
}

// Put writes entries (a later entry of the same key replaces an earlier
// one) and sets the meta, in one transaction. Entries should come in seq
// order. Afterwards the file's pages leave the process's resident set
// (Release).
func (d *Disk) Put(entries []Entry, m Meta) error {
	defer d.Release()
	return d.db.Update(func(tx *bolt.Tx) error {
		keys, seqs := tx.Bucket(bucketKeys), tx.Bucket(bucketSeqs)
		seqs.FillPercent = 1 // appended in seq order
		// bbolt keeps the slices passed to Put until the commit: one arena,
		// never reused within the transaction.
		arena := make([]byte, 0, len(entries)*96)
		alloc := func(b []byte) []byte {
			start := len(arena)
			arena = append(arena, b...)
			return arena[start:len(arena):len(arena)]
		}
		var tmp []byte
		var sk [8]byte
		for _, e := range entries {
			k := []byte(e.Key)
			if old := keys.Get(k); old != nil {
				if r, err := decode(old); err == nil {
					binary.BigEndian.PutUint64(sk[:], r.Seq)
					if err := seqs.Delete(sk[:]); err != nil {
						return err
					}
				}
			}
			if err := keys.Put(k, alloc(encode(tmp[:0], e.Record))); err != nil {
				return err
			}
			if err := seqs.Put(alloc(binary.BigEndian.AppendUint64(tmp[:0], e.Seq)), k); err != nil {
				return err
			}
		}
		return putMeta(tx, m)
	})
}

func putMeta(tx *bolt.Tx, m Meta) error {
	meta := tx.Bucket(bucketMeta)
	var sb [8]byte
	binary.BigEndian.PutUint64(sb[:], m.Seq)
	if err := meta.Put(metaSeq, sb[:]); err != nil {
		return err
	}
	return meta.Put(metaID, []byte(m.EventID))
}

// Purge deletes up to max records whose time is before cutoff, oldest seq
// first, and returns how many it deleted.
func (d *Disk) Purge(cutoff time.Time, max int) (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		keys, seqs := tx.Bucket(bucketKeys), tx.Bucket(bucketSeqs)
		c := seqs.Cursor()
		for sk, k := c.First(); sk != nil && n < max; sk, k = c.First() {
			if v := keys.Get(k); v != nil {
				if r, err := decode(v); err == nil && !r.At.Before(cutoff) {
					return nil // seq order is time order: the rest is younger
				}
			}
			if err := dropAt(keys, c, sk, k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// dropAt deletes the seq-index entry under the cursor and the key record it
// names, unless that key was reused at a later seq (the record then
// belongs to the later entry); a record that does not decode goes too.
func dropAt(keys *bolt.Bucket, c *bolt.Cursor, sk, k []byte) error {
	if v := keys.Get(k); v != nil {
		if r, err := decode(v); err != nil || r.Seq == binary.BigEndian.Uint64(sk) {
			if err := keys.Delete(k); err != nil {
				return err
			}
		}
	}
	return c.Delete()
}

// DeleteSeqs deletes the records whose primary seq is within from…to (a
// range the journal no longer replays) and returns how many it deleted.
func (d *Disk) DeleteSeqs(from, to uint64) (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		keys, seqs := tx.Bucket(bucketKeys), tx.Bucket(bucketSeqs)
		var from8 [8]byte
		binary.BigEndian.PutUint64(from8[:], from)
		c := seqs.Cursor()
		for sk, k := c.Seek(from8[:]); sk != nil && binary.BigEndian.Uint64(sk) <= to; sk, k = c.Seek(from8[:]) {
			if err := dropAt(keys, c, sk, k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Reset empties the index (its meta becomes zero): the file is removed and
// created again, which is faster than deleting millions of keys and never
// reads the old pages.
func (d *Disk) Reset() error {
	noSync := d.db.NoSync
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("keyindex: reset %s: %w", d.path, err)
	}
	if err := os.Remove(d.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("keyindex: reset %s: %w", d.path, err)
	}
	nd, _, err := open(d.path)
	if err != nil {
		return err
	}
	d.db = nd.db
	d.db.NoSync = noSync
	return nil
}

// Len is the number of keys in the index.
func (d *Disk) Len() int {
	n := 0
	_ = d.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketKeys).Stats().KeyN
		return nil
	})
	return n
}

// Size is the file's size in bytes.
func (d *Disk) Size() int64 {
	var n int64
	_ = d.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n
}

// Close syncs and closes the file.
func (d *Disk) Close() error {
	serr := d.db.Sync()
	if err := d.db.Close(); err != nil {
		return err
	}
	return serr
}

// Record encoding: uvarint seq, varint unix nanos, uvarint events, then
// length-prefixed hash and event id.
func encode(buf []byte, r Record) []byte {
	buf = binary.AppendUvarint(buf, r.Seq)
	buf = binary.AppendVarint(buf, r.At.UnixNano())
	buf = binary.AppendUvarint(buf, uint64(r.Events))
	buf = binary.AppendUvarint(buf, uint64(len(r.Hash)))
	buf = append(buf, r.Hash...)
	buf = binary.AppendUvarint(buf, uint64(len(r.EventID)))
	return append(buf, r.EventID...)
}

func decode(v []byte) (Record, error) {
	rd := bytes.NewReader(v)
	seq, err1 := binary.ReadUvarint(rd)
	at, err2 := binary.ReadVarint(rd)
	n, err3 := binary.ReadUvarint(rd)
	hash, err4 := readString(rd)
	id, err5 := readString(rd)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil || rd.Len() != 0 || n == 0 {
		return Record{}, fmt.Errorf("%w: bad record", ErrCorrupt)
	}
	return Record{Hash: hash, Seq: seq, EventID: id, At: time.Unix(0, at).UTC(), Events: int(n)}, nil
}

func readString(rd *bytes.Reader) (string, error) {
	n, err := binary.ReadUvarint(rd)
	if err != nil || n > uint64(rd.Len()) {
		return "", fmt.Errorf("bad length")
	}
	b := make([]byte, n)
	_, _ = rd.Read(b)
	return string(b), nil
}
