package projection

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"sort"
)

// Digest hashes every projection in canonical order (sorted keys, fixed
// field order). Equal states have equal digests; the in-memory ledger window
// is part of it, so a replay that reorders or drops an entry changes it.
// extra lets the engine add the state it folds outside this package (anomaly
// statistics, EoC).
func (s *State) Digest(extra ...func(h hash.Hash)) string {
	h := sha256.New()
	w := digestWriter{h}
	w.u(s.seq)
	for _, id := range sortedKeys(s.agents) {
		a := s.agents[id]
		w.str(id)
		w.f(a.SkillLevel)
		w.i(a.BalanceMilli)
		w.i(a.Entries)
		for _, e := range a.ledger.newest(0, len(a.ledger.buf)) {
			w.u(e.Seq)
			w.i(e.AmountMilli)
			w.i(e.BalanceAfterMilli)
		}
	}
	for _, id := range sortedKeys(s.approvals) {
		a := s.approvals[id]
		w.str(id)
		w.str(a.Status)
		w.i(int64(a.Version))
		w.i(a.AmountMilli)
		w.str(a.DecisionEventID)
		w.str(a.ExecutedEventID)
		for _, v := range a.Votes {
			w.str(v.EventID)
			w.str(v.DeciderID)
		}
	}
	for _, id := range sortedKeys(s.tombstones) {
		t := s.tombstones[id]
		w.str(id)
		w.str(t.Status)
		w.str(t.DecisionEventID)
	}
	for _, k := range sortedKeys(s.synergie) {
		a := s.synergie[k]
		w.str(k)
		w.i(a.GrantedMilli)
		w.i(a.CappedMilli)
		w.i(a.Rewards)
	}
	for _, id := range sortedKeys(s.collabs) {
		w.str(id)
		w.u(s.collabs[id])
	}
	for _, id := range sortedKeys(s.pools) {
		p := s.pools[id]
		w.str(id)
		w.i(p.BalanceMilli)
		w.str(map[bool]string{true: "closed", false: "open"}[p.Closed])
		for _, m := range sortedKeys(p.Members) {
			w.str(m)
		}
	}
	for _, id := range sortedKeys(s.missions) {
		m := s.missions[id]
		w.str(id)
		w.str(m.Status)
		w.i(m.ConsumedMilli)
		w.i(m.RefundedMilli)
		w.f(m.Rating)
	}
	for _, f := range extra {
		f(h)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type digestWriter struct{ h hash.Hash }

func (w digestWriter) u(v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	w.h.Write(b[:])
}
func (w digestWriter) i(v int64)   { w.u(uint64(v)) }
func (w digestWriter) f(v float64) { w.u(math.Float64bits(v)) }
func (w digestWriter) str(s string) {
	w.u(uint64(len(s)))
	w.h.Write([]byte(s))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
