package faultfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditgate/creditgate/chaos/faultfs"
)

func TestOnNthFailsOnlyTheNthCall(t *testing.T) {
	inj := faultfs.OnNth(faultfs.OpSync, 3, faultfs.ErrInjected)
	for i := 1; i <= 5; i++ {
		err := inj.MaybeError(faultfs.OpSync, "f")
		if (i == 3) != (err != nil) {
			t.Fatalf("call %d: err = %v", i, err)
		}
		if err := inj.MaybeError(faultfs.OpWrite, "f"); err != nil {
			t.Fatalf("other op failed: %v", err)
		}
	}
}

func TestComposedInjectorsFailWhereEitherFails(t *testing.T) {
	inj := faultfs.Any(
		faultfs.OnPathSuffix(".torn", faultfs.Always(faultfs.OpWrite, faultfs.ErrInjected)),
		faultfs.FromNth(faultfs.OpSync, 2, faultfs.ErrInjected),
	)
	cases := []struct {
		op   faultfs.Op
		path string
		fail bool
	}{
		{faultfs.OpWrite, "a.torn", true},
		{faultfs.OpWrite, "a.jsonl", false},
		{faultfs.OpSync, "a.jsonl", false},
		{faultfs.OpSync, "a.jsonl", true},
		{faultfs.OpSync, "a.jsonl", true},
	}
	for i, c := range cases {
		if err := inj.MaybeError(c.op, c.path); (err != nil) != c.fail {
			t.Fatalf("case %d (%v %s): err = %v, want fail=%v", i, c.op, c.path, err, c.fail)
		}
	}
}

func TestInjectedErrorsReachTheCallerAndAreCounted(t *testing.T) {
	fs := faultfs.New(nil, faultfs.OnNth(faultfs.OpWrite, 2, faultfs.ErrInjected))
	f, err := fs.OpenFile(filepath.Join(t.TempDir(), "f"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("b")); !errors.Is(err, faultfs.ErrInjected) {
		t.Fatalf("second write = %v, want ErrInjected", err)
	}
	if n := fs.Calls(faultfs.OpWrite); n != 2 {
		t.Fatalf("Calls(OpWrite) = %d, want 2", n)
	}
}

func TestShortWriteWritesOnlyKBytesWithoutError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	fs := faultfs.New(nil, nil)
	f, _ := fs.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	defer f.Close()
	fs.ShortWriteNext(3)
	n, err := f.Write([]byte("abcdef"))
	if n != 3 || err != nil {
		t.Fatalf("Write = %d, %v; want 3, nil", n, err)
	}
	if n, err := f.Write([]byte("xyz")); n != 3 || err != nil {
		t.Fatalf("the short write is one-shot: Write = %d, %v", n, err)
	}
	if got, _ := os.ReadFile(path); string(got) != "abcxyz" {
		t.Fatalf("file = %q", got)
	}
}

func TestCrashDropsExactlyTheUnsyncedBytes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	os.WriteFile(path, []byte("old|"), 0o644) // existing content counts as durable
	fs := faultfs.New(nil, faultfs.OnNth(faultfs.OpSync, 2, faultfs.ErrInjected))
	f, err := fs.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("synced|"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("lost"))
	if err := f.Sync(); !errors.Is(err, faultfs.ErrInjected) {
		t.Fatalf("sync 2 = %v, want injected", err)
	}
	newFile := filepath.Join(dir, "g")
	g, _ := fs.OpenFile(newFile, os.O_CREATE|os.O_WRONLY, 0o644)
	g.Write([]byte("never synced"))

	if err := fs.Crash(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old|synced|" {
		t.Fatalf("after crash f = %q, want only synced bytes", got)
	}
	if got, _ := os.ReadFile(newFile); len(got) != 0 {
		t.Fatalf("after crash g = %q, want empty", got)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, faultfs.ErrCrashed) {
		t.Fatalf("write through a pre-crash handle = %v, want ErrCrashed", err)
	}
	f.Close()
	g.Close()
	h, err := fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("the FS must stay usable after a crash: %v", err)
	}
	h.Close()
}
