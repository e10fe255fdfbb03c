package reports

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// page is what the HTML tests learn from walking report.html.
type page struct {
	svgs        map[string]*svgInfo // by id
	externalRef []string            // attributes pointing outside the file
	forbidden   []string            // elements that load or run something
	styleText   string
	text        string // all character data, for content checks
}

type svgInfo struct {
	children   int // direct child elements
	firstChild string
	title      string
	noData     bool
}

// refAttrs are the attributes through which a page can fetch something.
var refAttrs = map[string]bool{"src": true, "href": true, "action": true, "poster": true, "srcset": true, "data": true, "background": true, "formaction": true}

func isExternal(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || strings.HasPrefix(v, "//") || strings.Contains(v, "://")
}

// parsePage walks the page with encoding/xml in its lenient HTML mode.
func parsePage(t *testing.T, data []byte) page {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	p := page{svgs: map[string]*svgInfo{}}
	type frame struct {
		name string
		svg  *svgInfo
	}
	var stack []frame
	var inTitleOf *svgInfo
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("report.html does not parse: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(el.Name.Local)
			switch name {
			case "script", "link", "iframe", "img", "object", "embed", "image", "use", "base", "meta http-equiv":
				p.forbidden = append(p.forbidden, name)
			}
			for _, a := range el.Attr {
				an := strings.ToLower(a.Name.Local)
				if refAttrs[an] && isExternal(a.Value) {
					p.externalRef = append(p.externalRef, name+" "+an+"="+a.Value)
				}
				if an == "style" && strings.Contains(strings.ToLower(a.Value), "url(") {
					p.externalRef = append(p.externalRef, name+" style url()")
				}
				if an == "class" && a.Value == "nodata" && len(stack) > 0 && stack[len(stack)-1].svg != nil {
					stack[len(stack)-1].svg.noData = true
				}
			}
			var info *svgInfo
			if len(stack) > 0 && stack[len(stack)-1].svg != nil && stack[len(stack)-1].name == "svg" {
				parent := stack[len(stack)-1].svg
				if parent.children == 0 {
					parent.firstChild = name
				}
				parent.children++
				if name == "title" {
					inTitleOf = parent
				}
			}
			if name == "svg" {
				info = &svgInfo{}
				for _, a := range el.Attr {
					if a.Name.Local == "id" {
						p.svgs[a.Value] = info
					}
				}
			} else if len(stack) > 0 {
				info = stack[len(stack)-1].svg
			}
			stack = append(stack, frame{name: name, svg: info})
		case xml.EndElement:
			if len(stack) > 0 {
				if stack[len(stack)-1].name == "title" {
					inTitleOf = nil
				}
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if inTitleOf != nil {
				inTitleOf.title += string(el)
			}
			if len(stack) > 0 && stack[len(stack)-1].name == "style" {
				p.styleText += string(el)
			}
			p.text += string(el)
		}
	}
	return p
}

func renderHTML(t *testing.T, s *Summary) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := WriteAll(dir, s); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func assertSelfContained(t *testing.T, p page) {
	t.Helper()
	if len(p.externalRef) > 0 {
		t.Errorf("external references: %q", p.externalRef)
	}
	if len(p.forbidden) > 0 {
		t.Errorf("elements that load or run something: %q", p.forbidden)
	}
	if css := strings.ToLower(p.styleText); strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "@font-face") {
		t.Error("inline CSS fetches something (url(), @import or @font-face)")
	}
}

func TestReportHTMLHasEveryPlotAndNoExternalReference(t *testing.T) {
	s := goSummary(t)
	data := renderHTML(t, s)
	p := parsePage(t, data)
	assertSelfContained(t, p)
	for _, id := range PlotIDs {
		svg, ok := p.svgs[id]
		if !ok {
			t.Errorf("plot %s missing", id)
			continue
		}
		if svg.firstChild != "title" || strings.TrimSpace(svg.title) == "" {
			t.Errorf("plot %s: first child %q, title %q; want a non-empty <title> first", id, svg.firstChild, svg.title)
		}
		if svg.noData {
			t.Errorf("plot %s renders the no-data placeholder although the run has data", id)
		}
		if svg.children < 10 { // background, title, grid, ticks, axes, labels, lines, legend
			t.Errorf("plot %s has only %d child elements", id, svg.children)
		}
	}
	for _, want := range []string{"GO", "Sign off: every gate", "seq gapless and increasing", "< 500 ms", "41.2 ms"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if !bytes.Contains(data, []byte(`class="banner v-go"`)) {
		t.Error("verdict banner is not colored GO")
	}
}

func TestReportHTMLShowsNoDataPlaceholders(t *testing.T) {
	s := &Summary{Timestamp: fixedTime, Branch: "main", Commit: "c0ffee"}
	data := renderHTML(t, s)
	p := parsePage(t, data)
	assertSelfContained(t, p)
	for _, id := range PlotIDs {
		svg, ok := p.svgs[id]
		if !ok {
			t.Fatalf("plot %s missing from an empty report", id)
		}
		if !svg.noData || svg.title == "" {
			t.Errorf("plot %s: want a titled no-data placeholder, got %+v", id, svg)
		}
	}
	if !strings.Contains(p.text, "no data: no latency histogram recorded") {
		t.Error("placeholder text missing")
	}
	if !bytes.Contains(data, []byte(`class="banner v-nogo"`)) {
		t.Error("a report without gates must show NO-GO")
	}
}

func TestReportHTMLEscapesEveryText(t *testing.T) {
	s := goSummary(t)
	evil := `<script>alert("x")</script>`
	s.Branch = evil
	s.GateDetails[0].Checks[0].Name = evil
	s.GateDetails[0].Checks[0].Detail = `" onmouseover="alert(1)`
	s.Scenarios[0].Name = evil
	s.Latency.PerEndpoint[evil] = LatencyStats{P95: 1, Count: 1}
	s.Artifacts = []string{"https://evil.example/x", "//evil.example/y", "../outside", "hdr/ok.hlog"}
	data := renderHTML(t, s)
	p := parsePage(t, data)
	assertSelfContained(t, p)
	if bytes.Contains(data, []byte("<script")) {
		t.Error("unescaped <script> in the page")
	}
	if !strings.Contains(p.text, evil) {
		t.Error("escaped text must still read as the original string")
	}
	if !bytes.Contains(data, []byte(`href="hdr/ok.hlog"`)) {
		t.Error("a local artifact should be linked")
	}
}

func TestPlotsDecimateLongSeriesButKeepSpikes(t *testing.T) {
	var xs, ys []float64
	for i := 0; i < 100_000; i++ {
		xs = append(xs, float64(i))
		ys = append(ys, 1)
	}
	ys[54_321] = 999
	ox, oy := decimate(xs, ys, maxPlotPoints)
	if len(ox) > maxPlotPoints || len(ox) != len(oy) {
		t.Fatalf("decimated to %d points", len(ox))
	}
	found := false
	for _, y := range oy {
		found = found || y == 999
	}
	if !found {
		t.Error("the spike was lost")
	}
}
