package projection

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"reflect"
	"sort"
	"time"
)

// Digest hashes the state's Snapshot — every field of every projection —
// in a canonical binary form (see writeCanonical), followed by whatever
// extra writes (the engine adds the state it folds outside this package:
// anomaly statistics, EoC). Equal states have equal digests; since the
// snapshot carries every field and the encoding walks every field of it by
// reflection (JSON tags, omitempty and shadowed embedded fields play no
// part), a replay that loses, reorders or alters any field changes it.
func (s *State) Digest(extra ...func(h hash.Hash)) string {
	return snapshotDigest(s.Snapshot(), extra...)
}

func snapshotDigest(snap Snapshot, extra ...func(h hash.Hash)) string {
	h := sha256.New()
	writeCanonical(h, reflect.ValueOf(snap))
	for _, f := range extra {
		f(h)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var timeType = reflect.TypeFor[time.Time]()

// writeCanonical writes v unambiguously: every struct field in declaration
// order (exported or not), lengths before slices, strings and maps, map
// entries sorted by their encoded key, a presence byte before pointers and
// interfaces, floats by their bits, and instants as UTC RFC 3339 with
// nanoseconds (the same instant in two zones is the same state; a
// monotonic clock reading is not state).
func writeCanonical(h hash.Hash, v reflect.Value) {
	var b [8]byte
	u := func(x uint64) {
		binary.BigEndian.PutUint64(b[:], x)
		h.Write(b[:])
	}
	str := func(s string) {
		u(uint64(len(s)))
		h.Write([]byte(s))
	}
	if v.Type() == timeType {
		str(v.Interface().(time.Time).UTC().Format(time.RFC3339Nano))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			u(1)
		} else {
			u(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		u(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u(v.Uint())
	case reflect.Float32, reflect.Float64:
		u(math.Float64bits(v.Float()))
	case reflect.String:
		str(v.String())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			str(string(v.Bytes()))
			return
		}
		u(uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			writeCanonical(h, v.Index(i))
		}
	case reflect.Map:
		type kv struct {
			key string
			val reflect.Value
		}
		entries := make([]kv, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			kh := sha256.New()
			writeCanonical(kh, it.Key())
			entries = append(entries, kv{string(kh.Sum(nil)), it.Value()})
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
		u(uint64(len(entries)))
		for _, e := range entries {
			h.Write([]byte(e.key))
			writeCanonical(h, e.val)
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			u(0)
			return
		}
		u(1)
		if v.Kind() == reflect.Interface {
			str(v.Elem().Type().String())
		}
		writeCanonical(h, v.Elem())
	case reflect.Struct:
		t := v.Type()
		str(t.String())
		for i := 0; i < t.NumField(); i++ {
			str(t.Field(i).Name)
			writeCanonical(h, v.Field(i))
		}
	default:
		// Channels and funcs are not state; a snapshot never holds them
		// (TestSnapshotHoldsOnlyPlainData).
		str("unsupported " + v.Kind().String())
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
