package audit

import "testing"

func TestTimestampsThatAreNotUTCOrRunBackwardsAreReported(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(w *world)
	}{
		{"not RFC 3339", func(w *world) { w.b.evs[3].Timestamp = "2026-01-01 00:00:01" }},
		{"an offset other than zero", func(w *world) { w.b.evs[3].Timestamp = "2026-01-01T01:00:00+01:00" }},
		{"earlier than the event before it", func(w *world) {
			for _, e := range w.b.evs {
				e.Timestamp = "2026-01-01T00:00:00.002Z"
			}
			w.b.evs[4].Timestamp = "2026-01-01T00:00:00.001Z"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := cleanWorld(t)
			tc.edit(w)
			f := findingByCheck(t, GateA(mustRead(t, w.b.bytes()), w.ops, HistoryOptions{}), CheckTimestamp)
			if f.OK || f.ViolationCount != 1 {
				t.Fatalf("want one violation: %s", f)
			}
		})
	}
	w := cleanWorld(t)
	w.b.evs[2].Timestamp = "2026-01-01T00:00:00+00:00" // the same instant, offset written out
	if f := findingByCheck(t, GateA(mustRead(t, w.b.bytes()), w.ops, HistoryOptions{}), CheckTimestamp); !f.OK {
		t.Fatalf("equal stamps and a +00:00 offset are fine: %s", f)
	}
}

func TestAnUnknownEntityReadThatIsNot404IsReported(t *testing.T) {
	reads := []UnknownRead{{Path: "/api/credits/balance/x", Status: 404}, {Path: "/api/credits/synergie/x", Status: 200, Body: `{"teams":{}}`}}
	f := CheckUnknownEntities(reads)
	if f.OK || f.ViolationCount != 1 || f.Samples != 2 {
		t.Fatalf("want one violation in two reads: %s", f)
	}
	if f := CheckUnknownEntities(reads[:1]); !f.OK {
		t.Fatalf("a 404 is right: %s", f)
	}
}
