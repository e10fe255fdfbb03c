package keyindex

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func rec(seq uint64, hash string) Record {
	return Record{Hash: hash, Seq: seq, EventID: fmt.Sprint("ev", seq), At: t0.Add(time.Duration(seq) * time.Minute), Events: 1}
}

func openT(t *testing.T, path string) (*Disk, Meta) {
	t.Helper()
	d, m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d, m
}

// What the index answers after each kind of write.
func TestDiskKeepsOneRecordPerKey(t *testing.T) {
	for _, tc := range []struct {
		name    string
		write   func(d *Disk) error
		key     string
		found   bool
		wantSeq uint64
		keys    int
	}{
		{name: "a key put is found with its record", key: "a", found: true, wantSeq: 1, keys: 2,
			write: func(d *Disk) error { return d.Put([]Entry{{"a", rec(1, "h")}, {"b", rec(2, "h")}}, Meta{2, "ev2"}) }},
		{name: "a key put again answers its newest record", key: "a", found: true, wantSeq: 3, keys: 2,
			write: func(d *Disk) error {
				return d.Put([]Entry{{"a", rec(1, "h")}, {"b", rec(2, "h")}, {"a", rec(3, "h2")}}, Meta{3, "ev3"})
			}},
		{name: "purge drops records older than the cutoff, oldest first", key: "a", keys: 1,
			write: func(d *Disk) error {
				if err := d.Put([]Entry{{"a", rec(1, "h")}, {"b", rec(5, "h")}}, Meta{5, "ev5"}); err != nil {
					return err
				}
				_, err := d.Purge(t0.Add(3*time.Minute), 10)
				return err
			}},
		{name: "purge keeps a key reused after its first record expired", key: "a", found: true, wantSeq: 9, keys: 1,
			write: func(d *Disk) error {
				if err := d.Put([]Entry{{"a", rec(1, "h")}, {"a", rec(9, "h")}}, Meta{9, "ev9"}); err != nil {
					return err
				}
				_, err := d.Purge(t0.Add(3*time.Minute), 10)
				return err
			}},
		{name: "a seq range the journal no longer holds is deleted", key: "b", keys: 2,
			write: func(d *Disk) error {
				if err := d.Put([]Entry{{"a", rec(1, "h")}, {"b", rec(2, "h")}, {"c", rec(3, "h")}}, Meta{3, "ev3"}); err != nil {
					return err
				}
				_, err := d.DeleteSeqs(2, 2)
				return err
			}},
		{name: "reset empties the index", key: "a", keys: 0,
			write: func(d *Disk) error {
				if err := d.Put([]Entry{{"a", rec(1, "h")}}, Meta{1, "ev1"}); err != nil {
					return err
				}
				return d.Reset()
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := openT(t, filepath.Join(t.TempDir(), "keys"))
			if err := tc.write(d); err != nil {
				t.Fatal(err)
			}
			r, ok, err := d.Get(tc.key)
			if err != nil || ok != tc.found || (ok && (r.Seq != tc.wantSeq || r.EventID != fmt.Sprint("ev", tc.wantSeq))) {
				t.Fatalf("Get(%q) = %+v, %v, %v; want found=%v seq %d", tc.key, r, ok, err, tc.found, tc.wantSeq)
			}
			if n := d.Len(); n != tc.keys {
				t.Fatalf("%d keys, want %d", n, tc.keys)
			}
		})
	}
}

// Meta survives a reopen; an index covering nothing, or that is not an
// index, is recreated empty.
func TestOpenKeepsATrustedIndexAndRecreatesAnyOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	d, m := openT(t, path)
	if m != (Meta{}) {
		t.Fatalf("new index meta %+v, want zero", m)
	}
	if err := d.Put([]Entry{{"a", rec(7, "h")}}, Meta{7, "ev7"}); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
	d, m = openT(t, path)
	if m != (Meta{7, "ev7"}) {
		t.Fatalf("reopened meta %+v, want {7 ev7}", m)
	}
	if _, ok, _ := d.Get("a"); !ok {
		t.Fatal("a trusted index lost its key on reopen")
	}
	if err := d.Put([]Entry{{"b", rec(8, "h")}}, Meta{}); err != nil { // an unfinished rebuild
		t.Fatal(err)
	}
	_ = d.Close()
	d, m = openT(t, path)
	if _, ok, _ := d.Get("a"); ok || m != (Meta{}) {
		t.Fatalf("an index covering nothing was reused (meta %+v)", m)
	}
	_ = d.Close()
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, m = openT(t, path); m != (Meta{}) {
		t.Fatalf("garbage opened with meta %+v", m)
	}
}
