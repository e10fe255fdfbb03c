package projection

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPackUUIDTakesOnlyTheCanonicalFormAndGivesItBack(t *testing.T) {
	for _, tc := range []struct {
		in   string
		pack bool
	}{
		{"0b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", true},
		{"0B7C9E3A-5F1D-4C2E-9A8B-7D6E5F4A3B2C", false}, // would come back lowercase
		{"{0b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c}", false},
		{"0b7c9e3a5f1d4c2e9a8b7d6e5f4a3b2c", false},
		{"0b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2g", false},
		{"0b7c9e3a-5f1d-4c2e-9a8b_7d6e5f4a3b2c", false},
		{"0b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2", false},
		{"r1", false},
		{"", false},
	} {
		u, ok := packUUID(tc.in)
		if ok != tc.pack {
			t.Errorf("packUUID(%q) ok = %v, want %v", tc.in, ok, tc.pack)
			continue
		}
		if ok && u.String() != tc.in {
			t.Errorf("packUUID(%q).String() = %q", tc.in, u.String())
		}
	}
}

func TestATombstoneReadsBackAsPutWhateverItsIDs(t *testing.T) {
	ts := newTombstones()
	want := map[string]Tombstone{
		"0b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c": {Status: StatusApproved, DecisionEventID: "1b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c", DecidedBy: "bob", Version: 2},
		"2b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c": {Status: StatusExpired, DecisionEventID: "3b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c", DecidedBy: "", Version: 5},
		"4b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c": {Status: StatusRejected, DecisionEventID: "evt-7", DecidedBy: "carol", Version: 3}, // loose: decision id
		"r1":                                   {Status: StatusApproved, DecisionEventID: "5b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c", DecidedBy: "bob", Version: 2},
		"6B7C9E3A-5F1D-4C2E-9A8B-7D6E5F4A3B2C": {Status: StatusRejected, DecisionEventID: "7b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c", DecidedBy: "bob", Version: 2},
		"8b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c": {Status: "odd", DecisionEventID: "9b7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c", DecidedBy: "bob", Version: 2},
		"ab7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c": {Status: StatusApproved, DecisionEventID: "bb7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c", DecidedBy: "dave", Version: 1 << 40},
	}
	for id, tb := range want {
		ts.put(id, tb)
	}
	if ts.len() != len(want) {
		t.Fatalf("len %d, want %d", ts.len(), len(want))
	}
	if len(ts.packed) != 2 {
		t.Errorf("%d tombstones packed, want the 2 whose ids are canonical UUIDs and whose fields fit", len(ts.packed))
	}
	got := map[string]Tombstone{}
	for _, s := range ts.sorted() {
		got[s.RequestID] = s.Tombstone
		if g, ok := ts.get(s.RequestID); !ok || g != s.Tombstone {
			t.Errorf("get(%q) = %+v, %v; sorted says %+v", s.RequestID, g, ok, s.Tombstone)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("tombstones (-put +read back):\n%s", d)
	}
	if _, ok := ts.get("cb7c9e3a-5f1d-4c2e-9a8b-7d6e5f4a3b2c"); ok {
		t.Fatal("a request never put has a tombstone")
	}
}

// The memory of tombstones, measured against keeping their strings (what
// the state held before): the live heap after a GC, for the same 100,000
// tombstones of engine-made ids, side by side in one process.
func TestTombstonesOfEngineIDsTakeUnderHalfTheMemoryOfTheirStrings(t *testing.T) {
	const n = 100_000
	r := rand.New(rand.NewPCG(1, 2))
	id := func() string {
		var u uuid16
		for i := range u {
			u[i] = byte(r.UintN(256))
		}
		return u.String()
	}
	deciders := []string{"approver-1", "approver-2", "ops-lead"}
	live := func(build func() any) uint64 {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		keep := build()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(keep)
		return m1.HeapAlloc - m0.HeapAlloc
	}
	strs := live(func() any {
		m := map[string]Tombstone{}
		for i := 0; i < n; i++ {
			m[id()] = Tombstone{Status: StatusApproved, DecisionEventID: id(), DecidedBy: fmt.Sprint(deciders[i%3]), Version: 2}
		}
		return m
	})
	packed := live(func() any {
		ts := newTombstones()
		for i := 0; i < n; i++ {
			ts.put(id(), Tombstone{Status: StatusApproved, DecisionEventID: id(), DecidedBy: fmt.Sprint(deciders[i%3]), Version: 2})
		}
		return &ts
	})
	t.Logf("per tombstone: %d bytes with strings, %d packed", strs/n, packed/n)
	if packed*2 > strs {
		t.Fatalf("packed tombstones take %d bytes each, strings %d: not under half", packed/n, strs/n)
	}
}
