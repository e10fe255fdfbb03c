package projection

import "sort"

// tombstones holds what memory keeps of every decided request evicted from
// it, for as long as the process runs: one per decided approval, so they
// are the one read model that grows with the history. They are kept small.
// The engine names requests and events with canonical UUIDs, which pack
// into 16 bytes each; decider ids repeat and are interned; the status is
// one byte. A tombstone then costs a 44-byte map slot instead of a 72-byte
// slot plus three separately allocated strings (about 220 bytes in all).
// A tombstone whose ids are not canonical UUIDs (a journal written by
// another system) keeps its strings.
type tombstones struct {
	packed   map[uuid16]packedTombstone
	loose    map[string]Tombstone
	deciders interned
}

type packedTombstone struct {
	decision uuid16
	decider  uint32
	version  int32
	status   uint8
}

// The statuses a decided request can have, as packed.
var decidedStatuses = [...]string{1: StatusApproved, 2: StatusRejected, 3: StatusExpired}

func newTombstones() tombstones {
	return tombstones{packed: map[uuid16]packedTombstone{}, loose: map[string]Tombstone{}}
}

func (ts *tombstones) put(id string, t Tombstone) {
	rid, ok1 := packUUID(id)
	did, ok2 := packUUID(t.DecisionEventID)
	st := statusCode(t.Status)
	if !ok1 || !ok2 || st == 0 || int(int32(t.Version)) != t.Version {
		ts.loose[id] = t
		return
	}
	ts.packed[rid] = packedTombstone{decision: did, decider: ts.deciders.id(t.DecidedBy), version: int32(t.Version), status: st}
}

func (ts *tombstones) get(id string) (Tombstone, bool) {
	if rid, ok := packUUID(id); ok {
		if p, ok := ts.packed[rid]; ok {
			return ts.unpack(p), true
		}
	}
	t, ok := ts.loose[id]
	return t, ok
}

func (ts *tombstones) unpack(p packedTombstone) Tombstone {
	return Tombstone{Status: decidedStatuses[p.status], DecisionEventID: p.decision.String(),
		DecidedBy: ts.deciders.name(p.decider), Version: int(p.version)}
}

func (ts *tombstones) len() int { return len(ts.packed) + len(ts.loose) }

// sorted returns every tombstone by request id.
func (ts *tombstones) sorted() []TombstoneSnapshot {
	out := make([]TombstoneSnapshot, 0, ts.len())
	for rid, p := range ts.packed {
		out = append(out, TombstoneSnapshot{RequestID: rid.String(), Tombstone: ts.unpack(p)})
	}
	for id, t := range ts.loose {
		out = append(out, TombstoneSnapshot{RequestID: id, Tombstone: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RequestID < out[j].RequestID })
	return out
}

func statusCode(s string) uint8 {
	for i, st := range decidedStatuses {
		if i > 0 && st == s {
			return uint8(i)
		}
	}
	return 0
}

// interned numbers distinct strings in the order they are first seen.
type interned struct {
	names []string
	ids   map[string]uint32
}

func (in *interned) id(s string) uint32 {
	if i, ok := in.ids[s]; ok {
		return i
	}
	if in.ids == nil {
		in.ids = map[string]uint32{}
	}
	i := uint32(len(in.names))
	in.names = append(in.names, s)
	in.ids[s] = i
	return i
}

func (in *interned) name(i uint32) string { return in.names[i] }

// uuid16 is a UUID's 16 bytes.
type uuid16 [16]byte

const hexDigits = "0123456789abcdef"

// packUUID packs a UUID in canonical form (36 characters, lowercase hex,
// hyphens at 8, 13, 18 and 23); anything else, including an uppercase
// UUID, does not pack, so String gives back exactly the string packed.
func packUUID(s string) (uuid16, bool) {
	var u uuid16
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return uuid16{}, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// String is the canonical form.
func (u uuid16) String() string {
	var b [36]byte
	j := 0
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[x>>4], hexDigits[x&0xf]
		j += 2
	}
	return string(b[:])
}
