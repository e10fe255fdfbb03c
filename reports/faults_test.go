package reports

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFaultRun writes a gate's history (seeded latencies, slow during the
// faults) and its fault windows as a suite saves them, into dir/gate-D/sub.
func writeFaultRun(t testing.TB, dir, sub string) {
	t.Helper()
	d := filepath.Join(dir, "gate-D", sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	const sec = int64(1e9)
	windows := []struct {
		fault          string
		start, end     int64
		detail, suffix string
	}{
		{"KARMA hanging", 2 * sec, 4 * sec, "mode hang; healthy again", ""},
		{"kill -9", 6 * sec, 6*sec + 300e6, "SIGKILL; restarted", ""},
		{"power cut", 8 * sec, 8*sec + 150e6, "3031 unsynced bytes dropped", ""},
		{"disk full", 10 * sec, 0, "quota 18225 bytes", ""}, // never healed
	}
	var f bytes.Buffer
	for i, w := range windows {
		end := ""
		if w.end != 0 {
			end = fmt.Sprintf(`,"end_ns":%d`, w.end)
		}
		fmt.Fprintf(&f, `{"id":%d,"fault":%q,"start_ns":%d%s,"detail":%q}`+"\n", i+1, w.fault, w.start, end, w.detail)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var h bytes.Buffer
	for i := range 1200 {
		call := int64(i) * 10e6
		lat := int64(2e6 + rng.IntN(3e6))
		if call > 2*sec && call < 4*sec {
			lat += 100e6 // the KARMA timeout
		}
		fmt.Fprintf(&h, `{"id":%d,"kind":"consume","call_ns":%d,"return_ns":%d,"status":200,"outcome":"ok"}`+"\n", i+1, call, call+lat)
	}
	for name, b := range map[string][]byte{FaultsFile: f.Bytes(), "history.jsonl": h.Bytes()} {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFaultTimelineReadsWindowsOnTheHistoryClock(t *testing.T) {
	dir := t.TempDir()
	writeFaultRun(t, dir, "power-cut")
	tls := faultTimelines(dir)
	if len(tls) != 1 || tls[0].Name != "gate-D/power-cut" || len(tls[0].Windows) != 4 {
		t.Fatalf("timelines: %+v", tls)
	}
	tl := tls[0]
	if w := tl.Windows[0]; w.StartS != 2 || w.EndS != 4 || w.Open {
		t.Errorf("KARMA window: %+v", w)
	}
	if w := tl.Windows[3]; !w.Open || w.EndS < 11.9 {
		t.Errorf("an open window must last to the end of the history: %+v", w)
	}
	if len(tl.Points) == 0 || len(tl.Points) > maxTimelinePoint {
		t.Fatalf("%d points", len(tl.Points))
	}
	slow := 0.0
	for _, p := range tl.Points {
		if p.TS > 2.5 && p.TS < 3.5 {
			slow = max(slow, p.P50Ms)
		}
	}
	if slow < 100 {
		t.Errorf("latency inside the KARMA window must show the 100 ms timeout, got p50 %.1f ms", slow)
	}
}

func TestReportShadesEveryFaultWindowOnItsLatencyPlot(t *testing.T) {
	dir := t.TempDir()
	writeFaultRun(t, dir, "power-cut")
	s := goSummary(t)
	s.Faults = faultTimelines(dir)
	data := renderHTML(t, s)
	p := parsePage(t, data)
	assertSelfContained(t, p)
	id := plotIDFor("gate-D/power-cut")
	if svg, ok := p.svgs[id]; !ok || svg.noData {
		t.Fatalf("plot %s missing or empty", id)
	}
	if n := bytes.Count(data, []byte(`class="fault-window"`)); n != 4 {
		t.Errorf("%d shaded fault windows, want 4", n)
	}
	for _, want := range []string{"KARMA hanging", "kill -9", "power cut", "disk full (never healed)"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("the plot does not name the fault %q", want)
		}
	}
}
