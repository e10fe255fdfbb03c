package engine

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/keyindex"
)

// benchKey is the i-th retained client key: UUID-shaped, and in key order
// by i so the index can be bulk-loaded in sorted batches.
func benchKey(i int) string {
	return fmt.Sprintf("%08x-%04x-4c2b-9a51-%012x", i>>16, i&0xffff, uint64(i)*2654435761%(1<<48))
}

const benchHash = "3f8a2c1e9b7d4f60a1c2e3d4b5a69788f0e1d2c3b4a5968778695a4b3c2d1e0f" // a fingerprint's length

// BenchmarkKeyIndex10M: memory and lookup latency of the idempotency index
// with 10M retained keys (KEYINDEX_BENCH_KEYS overrides the count): the
// newest IdempotencyMemKeys (the default) in memory, the rest in the bbolt file.
// The file is bulk-loaded in key order in batches of 100k (a file grown by
// live spills of random keys is less dense, so larger on disk); lookups run
// with the file in the page cache. Sub-benchmarks: a hit in memory, a hit
// on disk, a miss (a new key: memory, then disk), and the live spill path
// (remember + maintain of new random keys, a synced bbolt transaction per
// 4096 keys, waited for although live it runs in the background) into the
// full index.
//
//	go test -run '^$' -bench BenchmarkKeyIndex10M -benchtime=200000x ./engine/
func BenchmarkKeyIndex10M(b *testing.B) {
	n := 10_000_000
	if s := os.Getenv("KEYINDEX_BENCH_KEYS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 100_000 {
			b.Fatalf("KEYINDEX_BENCH_KEYS=%q: want an integer ≥ 100000", s)
		}
		n = v
	}
	memKeys := DefaultConfig().IdempotencyMemKeys
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return now.Add(-time.Duration(n-i) * 5 * time.Millisecond) } // 10M keys in ~14 h

	dir := b.TempDir()
	path := filepath.Join(dir, "credits.jsonl.keys")
	rssBefore, _ := procRSS()
	start := time.Now()
	disk, _, err := keyindex.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	disk.SetNoSync(true)
	onDisk := n - memKeys
	const batch = 100_000
	entries := make([]keyindex.Entry, 0, batch)
	for lo := 0; lo < onDisk; lo += batch {
		entries = entries[:0]
		for i := lo; i < min(lo+batch, onDisk); i++ {
			entries = append(entries, keyindex.Entry{Key: benchKey(i), Record: keyindex.Record{
				Hash: benchHash, Seq: uint64(i + 1), EventID: benchKey(i), At: at(i), Events: 1}})
		}
		last := entries[len(entries)-1]
		if err := disk.Put(entries, keyindex.Meta{Seq: last.Seq, EventID: last.EventID}); err != nil {
			b.Fatal(err)
		}
		if os.Getenv("KEYINDEX_BENCH_TRACE") != "" && lo%(10*batch) == 0 {
			a, f := procRSS()
			fmt.Printf("keyindex: build at %d keys: RSS anon %.1f MiB, file %.1f MiB\n", lo, float64(a)/(1<<20), float64(f)/(1<<20))
		}
	}
	disk.SetNoSync(false)
	if err := disk.Sync(); err != nil {
		b.Fatal(err)
	}
	x := newKeyIndex(keyIndexConfig{retention: 24 * time.Hour, memKeys: memKeys, disk: disk,
		meta: keyindex.Meta{Seq: uint64(onDisk), EventID: benchKey(onDisk - 1)}, now: func() time.Time { return now }})
	b.Cleanup(func() { _ = x.close() })
	for i := onDisk; i < n; i++ {
		ev := &event.Envelope{Seq: uint64(i + 1), EventID: benchKey(i), EventType: event.CreditConsumed, IdempotencyKey: benchKey(i),
			Timestamp: at(i), Metadata: &event.Metadata{RequestHash: benchHash}, Payload: []byte(`{"agent_id":"agent-0001","amount_milli":1000,"reason":"bench"}`)}
		x.remember(ev, nil)
	}
	build := time.Since(start)
	entries = nil
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, rssFile, peak := procStatus()
	st, _ := os.Stat(path)
	fmt.Printf("keyindex: %d keys retained (%d in memory, %d on disk) built in %v; file %.0f MiB; heap in use %.1f MiB; RSS %.1f MiB (anon %.1f, file-backed mmap %.1f; %.1f before the build; peak while building %.1f)\n",
		n, x.len(), onDisk, build.Round(time.Millisecond), float64(st.Size())/(1<<20), float64(ms.HeapInuse)/(1<<20),
		float64(rss+rssFile)/(1<<20), float64(rss)/(1<<20), float64(rssFile)/(1<<20), float64(rssBefore)/(1<<20), float64(peak)/(1<<20))

	rng := rand.New(rand.NewPCG(1, 2))
	lookup := func(b *testing.B, key func() string, wantFound bool) {
		lat := make([]time.Duration, 0, min(b.N, 1_000_000))
		b.ResetTimer()
		for range b.N {
			k := key()
			t := time.Now()
			_, ok := x.lookup(k)
			d := time.Since(t)
			if ok != wantFound {
				b.Fatalf("lookup(%q) found = %v, want %v", k, ok, wantFound)
			}
			if len(lat) < cap(lat) {
				lat = append(lat, d)
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
	b.Run("hit-memory", func(b *testing.B) {
		lookup(b, func() string { return benchKey(onDisk + rng.IntN(memKeys)) }, true)
	})
	b.Run("hit-disk", func(b *testing.B) {
		lookup(b, func() string { return benchKey(rng.IntN(onDisk)) }, true)
	})
	b.Run("miss", func(b *testing.B) {
		lookup(b, func() string { return strings.Replace(benchKey(rng.IntN(n)), "4c2b", "ffff", 1) }, false)
	})
	b.Run("spill", func(b *testing.B) {
		seq := uint64(n)
		b.ResetTimer()
		for range b.N {
			seq++
			k := fmt.Sprintf("%016x-new-%d", rng.Uint64(), seq)
			x.remember(&event.Envelope{Seq: seq, EventID: k, IdempotencyKey: k, Timestamp: now,
				Metadata: &event.Metadata{RequestHash: benchHash}}, nil)
			x.maintain()
			x.settle(true) // the background write's cost, per key
		}
	})
	runtime.ReadMemStats(&ms)
	fmt.Printf("keyindex: after the lookups: heap in use %.1f MiB, %d keys in memory\n", float64(ms.HeapInuse)/(1<<20), x.len())
}

// procRSS returns the process's anonymous and file-backed resident bytes
// (Linux; zeros elsewhere).
func procRSS() (anon, file int64) {
	anon, file, _ = procStatus()
	return anon, file
}

// procStatus returns resident anonymous and file-backed bytes and the peak
// resident size (VmHWM) from /proc/self/status.
func procStatus() (anon, file, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "RssAnon:":
			anon = v << 10
		case "RssFile:":
			file = v << 10
		case "VmHWM:":
			peak = v << 10
		}
	}
	return anon, file, peak
}
