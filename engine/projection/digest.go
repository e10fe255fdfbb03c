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

// canon encodes values canonically into a buffer that is flushed to the
// hash in large writes (hashing 8 bytes at a time dominated the cost).
type canon struct {
	h   hash.Hash
	buf []byte
}

func (c *canon) flush() {
	c.h.Write(c.buf)
	c.buf = c.buf[:0]
}

func (c *canon) u(x uint64) {
	c.buf = binary.BigEndian.AppendUint64(c.buf, x)
	if len(c.buf) >= 64<<10 {
		c.flush()
	}
}

func (c *canon) str(s string) {
	c.u(uint64(len(s)))
	c.buf = append(c.buf, s...)
}

// writeCanonical writes v unambiguously: first its type's layout (every
// field name and type, recursively — so a changed schema changes every
// digest), then its value: every struct field in declaration order
// (exported or not), lengths before slices, strings and maps, map entries
// sorted by their encoded key, a presence flag before pointers and
// interfaces, floats by their bits, and instants as Unix seconds and
// nanoseconds (the same instant in two zones is the same state; a
// monotonic clock reading is not state).
func writeCanonical(h hash.Hash, v reflect.Value) {
	c := &canon{h: h, buf: make([]byte, 0, 64<<10+512)}
	c.str(layout(v.Type(), map[reflect.Type]bool{}))
	c.value(v)
	c.flush()
}

// layout describes a type's structure.
func layout(t reflect.Type, seen map[reflect.Type]bool) string {
	if t == timeType || seen[t] {
		return t.String()
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return t.Kind().String() + "(" + layout(t.Elem(), seen) + ")"
	case reflect.Map:
		return "map(" + layout(t.Key(), seen) + "," + layout(t.Elem(), seen) + ")"
	case reflect.Struct:
		s := t.String() + "{"
		for i := 0; i < t.NumField(); i++ {
			s += t.Field(i).Name + " " + layout(t.Field(i).Type, seen) + ";"
		}
		return s + "}"
	}
	return t.String()
}

func (c *canon) value(v reflect.Value) {
	t := v.Type()
	if t == timeType {
		tm := v.Interface().(time.Time)
		c.u(uint64(tm.Unix()))
		c.u(uint64(tm.Nanosecond()))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			c.u(1)
		} else {
			c.u(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.u(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.u(v.Uint())
	case reflect.Float32, reflect.Float64:
		c.u(math.Float64bits(v.Float()))
	case reflect.String:
		c.str(v.String())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			c.str(string(v.Bytes()))
			return
		}
		c.u(uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			c.value(v.Index(i))
		}
	case reflect.Map:
		type kv struct {
			key []byte
			val reflect.Value
		}
		entries := make([]kv, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			k := &canon{h: sha256.New()}
			k.value(it.Key())
			entries = append(entries, kv{k.buf, it.Value()})
		}
		sort.Slice(entries, func(i, j int) bool { return string(entries[i].key) < string(entries[j].key) })
		c.u(uint64(len(entries)))
		for _, e := range entries {
			c.buf = append(c.buf, e.key...)
			c.value(e.val)
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			c.u(0)
			return
		}
		c.u(1)
		if v.Kind() == reflect.Interface {
			c.str(v.Elem().Type().String())
		}
		c.value(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			c.value(v.Field(i))
		}
	default:
		// Channels and funcs are not state; a snapshot never holds them
		// (TestSnapshotHoldsOnlyPlainData).
		c.str("unsupported " + v.Kind().String())
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
