package history

import (
	"bytes"
	"testing"
	"time"
)

func TestWindowsAreOnTheOpsClockAndRoundTrip(t *testing.T) {
	base := time.Now()
	r := NewRecorderAt(10, base)
	id := r.OpenWindow("kill -9", base.Add(2*time.Second), time.Time{}, "")
	if ws := r.Windows(); len(ws) != 1 || !ws[0].Open() || ws[0].StartNs != int64(2*time.Second) {
		t.Fatalf("open window: %+v", ws)
	}
	r.CloseWindow(id, base.Add(3*time.Second), "restarted")
	r.OpenWindow("power cut", base.Add(5*time.Second), base.Add(4*time.Second), "") // an end before the start is clamped
	ws := r.Windows()
	if ws[0].EndNs != int64(3*time.Second) || ws[0].Detail != "restarted" || ws[1].EndNs != ws[1].StartNs {
		t.Fatalf("closed windows: %+v", ws)
	}
	if !ws[0].Contains(int64(2500*time.Millisecond)) || ws[0].Contains(int64(3500*time.Millisecond)) {
		t.Fatal("Contains must honour [start, end]")
	}
	var b bytes.Buffer
	if err := r.WriteWindowsJSONL(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadWindowsJSONL(&b)
	if err != nil || len(back) != 2 || back[0] != ws[0] || back[1] != ws[1] {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}
