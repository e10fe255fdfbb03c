package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The browser tests prove what the stdlib parse cannot: that a real browser
// renders every plot and fetches nothing. CI installs the browser with
// `apt-get install -y chromium`.
const chromiumPath = "/usr/bin/chromium"

func needChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s not found: install it with `apt-get install -y chromium` to run the headless browser test", chromiumPath)
	}
}

// runChromium loads file:// page headless with every host unresolvable and a
// net log, plus the extra args (--dump-dom or --screenshot=…). It returns stdout.
func runChromium(t *testing.T, page, netLog string, extra ...string) []byte {
	t.Helper()
	tmp := t.TempDir()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
		"--disable-features=NetworkTimeServiceQuerying",
		"--user-data-dir=" + filepath.Join(tmp, "profile"),
		// Any name lookup fails: an external fetch cannot succeed, and it is logged.
		`--host-resolver-rules=MAP * ~NOTFOUND`,
		"--log-net-log=" + netLog,
	}
	sized := false
	for _, e := range extra {
		sized = sized || strings.HasPrefix(e, "--window-size=")
	}
	if !sized {
		args = append(args, "--window-size=1200,3000")
	}
	args = append(append(args, extra...), "file://"+page)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath, args...)
	cmd.Env = append(os.Environ(), "HOME="+tmp) // keep the profile and caches out of the real home
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, lastLines(stderr.String(), 20))
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// netRequests reads a Chromium net log and returns the network URLs requested
// on behalf of the page. Chromium itself talks to its update and account
// services even with background networking disabled; those requests carry
// initiator "not an origin" and a network isolation key that is not the
// page's (file://), and they are returned separately as browserOwn so the
// test can log them. Everything else with a non-local scheme counts against
// the page, including preconnects that never become a URL request.
func netRequests(t *testing.T, netLog string) (page, browserOwn []string) {
	t.Helper()
	data, err := os.ReadFile(netLog)
	if err != nil {
		t.Fatalf("net log: %v", err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int            `json:"type"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		// Chromium may be killed before it closes the JSON array; that is not
		// a clean run and the test must not pass on a partial log.
		t.Fatalf("net log is not valid JSON: %v", err)
	}
	startJob, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok || len(log.Events) == 0 {
		t.Fatalf("net log has no events (types known: %d)", len(log.Constants.LogEventTypes))
	}
	own := map[string]bool{}
	for _, e := range log.Events {
		if e.Type != startJob {
			continue
		}
		url, _ := e.Params["url"].(string)
		initiator, _ := e.Params["initiator"].(string)
		nik, _ := e.Params["network_isolation_key"].(string)
		if initiator == "not an origin" && !strings.Contains(nik, "file:") {
			own[url] = true
		}
	}
	seen := map[string]bool{}
	for _, e := range log.Events {
		url, _ := e.Params["url"].(string)
		if url == "" || seen[url] || isLocalScheme(url) {
			continue
		}
		seen[url] = true
		if own[url] {
			browserOwn = append(browserOwn, url)
		} else {
			page = append(page, url)
		}
	}
	return page, browserOwn
}

func isLocalScheme(url string) bool {
	for _, p := range []string{"file:", "data:", "about:", "chrome:", "chrome-error:", "chrome-extension:", "devtools:", "blob:"} {
		if strings.HasPrefix(url, p) {
			return true
		}
	}
	return false
}

func TestBrowserRendersEveryPlotWithoutNetworkRequests(t *testing.T) {
	needChromium(t)
	for _, tc := range []struct {
		name string
		s    *Summary
	}{
		{"full run", noGoSummary(t)},
		{"empty run", &Summary{Timestamp: fixedTime}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteAll(dir, tc.s); err != nil {
				t.Fatal(err)
			}
			pagePath := filepath.Join(dir, HTMLFile)
			netLog := filepath.Join(t.TempDir(), "net.json")
			dom := runChromium(t, pagePath, netLog, "--dump-dom")

			p := parsePage(t, dom)
			for _, id := range PlotIDs {
				svg, ok := p.svgs[id]
				if !ok {
					t.Errorf("plot %s missing from the rendered DOM", id)
					continue
				}
				if svg.children == 0 || svg.title == "" {
					t.Errorf("plot %s rendered with %d children, title %q", id, svg.children, svg.title)
				}
			}
			if !strings.Contains(p.text, tc.s.OverallStatus) {
				t.Errorf("rendered DOM lacks the verdict %s", tc.s.OverallStatus)
			}

			pageReqs, own := netRequests(t, netLog)
			if len(pageReqs) > 0 {
				t.Errorf("report.html made network requests: %q", pageReqs)
			}
			if len(own) > 0 {
				t.Logf("ignored Chromium's own background requests: %q", own)
			}

			shot := filepath.Join(t.TempDir(), "report.png")
			runChromium(t, pagePath, filepath.Join(t.TempDir(), "net2.json"), "--screenshot="+shot)
			if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
				t.Errorf("screenshot missing or blank: %v", err)
			}
		})
	}
}

// The net-log check must be able to fail: a page with an external image is caught.
func TestBrowserNetLogCatchesAnExternalFetch(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "external.html")
	html := `<!DOCTYPE html><html><body><img src="https://assets.example.invalid/logo.png"/></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	netLog := filepath.Join(t.TempDir(), "net.json")
	runChromium(t, page, netLog, "--dump-dom")
	pageReqs, _ := netRequests(t, netLog)
	found := false
	for _, u := range pageReqs {
		found = found || strings.HasPrefix(u, "https://assets.example.invalid/")
	}
	if !found {
		t.Fatalf("the external image was not detected; page requests: %q", pageReqs)
	}
}

// longDetailSummary is a run whose checks carry very long values: a
// granted-rewards list of 200 agents, a 2000-byte token without a space
// (raw JSON), and a map-valued measured value.
func longDetailSummary(t *testing.T) *Summary {
	s := noGoSummary(t)
	var granted []string
	for i := 0; i < 200; i++ {
		granted = append(granted, fmt.Sprintf("agent-with-a-long-identifier-%03d: 500", i))
	}
	raw := `{"history":[` + strings.Repeat(`{"event_id":"0123456789abcdef","amount":-12.5},`, 40) + `]}`
	s.GateDetails[0].Checks = append(s.GateDetails[0].Checks,
		Check{Name: "granted rewards", Status: StatusFail, Measured: Readable(map[string]int{"fallback": 47, "cache": 3}),
			Threshold: "≤ 500 each", Detail: "granted credits: " + strings.Join(granted, ", ")},
		Check{Name: "raw response", Status: StatusWarn, Measured: strings.Repeat("x", 300), Threshold: "-", Detail: raw,
			Repro: "go run ./cmd/creditgate gates --gates a --seed 42 " + strings.Repeat("--flag-without-spaces", 30)})
	return s
}

// overflowProbe is appended to a copy of the page (report.html itself has
// no script): it records the document's scroll and client widths.
const overflowProbe = `<script>document.body.setAttribute("data-widths", document.documentElement.scrollWidth + " " + document.documentElement.clientWidth);</script></body>`

var widthsAttr = regexp.MustCompile(`data-widths="(\d+) (\d+)"`)

// pageWidths loads page at 1280 px in Chromium and returns the document's
// scrollWidth and clientWidth.
func pageWidths(t *testing.T, page string) (scroll, client int) {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(filepath.Dir(page), "probe-"+filepath.Base(page))
	if err := os.WriteFile(probe, []byte(strings.Replace(string(data), "</body>", overflowProbe, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, probe, filepath.Join(t.TempDir(), "net.json"), "--window-size=1280,900", "--dump-dom")
	m := widthsAttr.FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe recorded no widths; DOM starts %q", lastLines(string(dom), 3))
	}
	scroll, _ = strconv.Atoi(string(m[1]))
	client, _ = strconv.Atoi(string(m[2]))
	return scroll, client
}

// Long check details wrap or fold inside the table: at 1280 px the report
// page never scrolls sideways. The control page proves the probe sees an
// overflow when there is one.
func TestBrowserReportHasNoHorizontalOverflowAt1280px(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	s := longDetailSummary(t)
	if err := WriteAll(dir, s); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, HTMLFile)
	scroll, client := pageWidths(t, page)
	if client < 1200 || client > 1280 {
		t.Fatalf("clientWidth %d: the window is not 1280 px wide", client)
	}
	if scroll > client {
		t.Errorf("report.html overflows horizontally at 1280 px: scrollWidth %d > clientWidth %d", scroll, client)
	}
	shot := filepath.Join(t.TempDir(), "report-1280.png")
	runChromium(t, page, filepath.Join(t.TempDir(), "net2.json"), "--window-size=1280,900", "--screenshot="+shot)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot at 1280 px missing or blank: %v", err)
	}

	control := filepath.Join(dir, "control.html")
	wide := `<!DOCTYPE html><html><body><table><tr><td>` + strings.Repeat("x", 3000) + `</td></tr></table></body></html>`
	if err := os.WriteFile(control, []byte(wide), 0o644); err != nil {
		t.Fatal(err)
	}
	if cs, cc := pageWidths(t, control); cs <= cc {
		t.Errorf("control page with a 3000-character cell: scrollWidth %d ≤ clientWidth %d, the probe cannot see an overflow", cs, cc)
	}
}

// A real browser draws the fault windows as shaded bands on the latency
// plot of the history that recorded them. The screenshot is kept in the
// test's artifact directory: run with
// `go test ./reports -run TestBrowserDrawsFaultWindows -artifacts -outputdir <dir>`
// to keep <dir>/…/report-fault-windows.png (without -artifacts it is removed).
func TestBrowserDrawsFaultWindows(t *testing.T) {
	needChromium(t)
	run := t.TempDir()
	writeFaultRun(t, run, "power-cut")
	s := goSummary(t)
	s.Faults = faultTimelines(run)
	dir := t.TempDir()
	if err := WriteAll(dir, s); err != nil {
		t.Fatal(err)
	}
	pagePath := filepath.Join(dir, HTMLFile)
	dom := runChromium(t, pagePath, filepath.Join(t.TempDir(), "net.json"), "--dump-dom")
	p := parsePage(t, dom)
	id := plotIDFor("gate-D/power-cut")
	if svg, ok := p.svgs[id]; !ok || svg.noData || svg.children == 0 {
		t.Fatalf("plot %s missing or empty in the rendered DOM", id)
	}
	if n := strings.Count(string(dom), `class="fault-window"`); n != 4 {
		t.Errorf("the rendered DOM shades %d fault windows, want 4", n)
	}
	shot := filepath.Join(t.ArtifactDir(), "report-fault-windows.png")
	runChromium(t, pagePath, filepath.Join(t.TempDir(), "net2.json"), "--window-size=1280,5200", "--screenshot="+shot)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot missing or blank: %v", err)
	}
	t.Logf("screenshot: %s", shot)
}
