package keyindex

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mappedRSS is the resident size in bytes of this process's mappings of
// path, from /proc/self/smaps.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && fields[5] == path
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			kb, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kb << 10
		}
	}
	return total
}

// The keys on disk do not count in the engine's memory: after a Put (or a
// Release) the index file's pages are no longer resident in the process,
// however many lookups touched them, and every record still reads back.
func TestTheIndexFileLeavesTheResidentSetAfterAPut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl.keys")
	d, _ := openT(t, path)
	const n = 40_000
	entries := make([]Entry, n)
	for i := range entries {
		entries[i] = Entry{Key: fmt.Sprintf("client-key-%06d", i), Record: rec(uint64(i+1), "h")}
	}
	readAll := func(upTo int) {
		t.Helper()
		for _, e := range entries[:upTo] {
			if r, ok, err := d.Get(e.Key); err != nil || !ok || r.Seq != e.Seq {
				t.Fatalf("Get(%s) = %+v, %v, %v; want seq %d", e.Key, r, ok, err, e.Seq)
			}
		}
	}
	const small = 64 << 10 // the few pages a Put's own read transaction touches
	if err := d.Put(entries[:n/2], Meta{uint64(n / 2), "ev"}); err != nil {
		t.Fatal(err)
	}
	readAll(n / 2)
	touched := mappedRSS(t, path)
	if touched < 4*small {
		t.Fatalf("reading %d keys left %d bytes of the index resident; the test needs more to tell", n/2, touched)
	}
	if err := d.Put(entries[n/2:], Meta{uint64(n), "ev"}); err != nil {
		t.Fatal(err)
	}
	if got := mappedRSS(t, path); got > small {
		t.Errorf("after a Put %d bytes of the index file stay resident (%d before it); want at most %d", got, touched, small)
	}
	readAll(n)
	d.Release()
	if got := mappedRSS(t, path); got > small {
		t.Errorf("after Release %d bytes of the index file stay resident; want at most %d", got, small)
	}
	readAll(n)
}
