package reports

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Readable renders a measured value, threshold or detail fragment for the
// reports: maps as "k: v, k: v" sorted by key, lists as "a, b, c", numbers
// without float noise — never Go's "map[k:v]" or "[a b]" syntax. Gates
// pass maps and slices to env.Check as they are (or through Readable when
// they build a detail string), and the reports render them here.
func Readable(v any) string {
	if v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmtNum(x)
	case float32:
		return fmtNum(float64(x))
	case json.Number:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Len() == 0 {
			return "none"
		}
		type kv struct{ k, v string }
		items := make([]kv, 0, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			items = append(items, kv{Readable(iter.Key().Interface()), Readable(iter.Value().Interface())})
		}
		sort.Slice(items, func(i, j int) bool { return items[i].k < items[j].k })
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = it.k + ": " + it.v
		}
		return strings.Join(parts, ", ")
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return string(rv.Bytes())
		}
		if rv.Len() == 0 {
			return "none"
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = Readable(rv.Index(i).Interface())
		}
		return strings.Join(parts, ", ")
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return ""
		}
		return Readable(rv.Elem().Interface())
	case reflect.Struct:
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}
