package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The page is one file: inline CSS, inline SVG, no script, no external URL.
// The markup is also well-formed XML (void elements self-closed) so that tests
// can walk it with encoding/xml.
const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>creditgate sign-off: {{.S.OverallStatus}} ({{.S.Branch}} {{.S.Commit}})</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0; color: #1d1d1d; background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 0 16px 40px; }
.banner { padding: 18px 24px; color: #fff; }
.banner .verdict { font-size: 40px; font-weight: 800; letter-spacing: 1px; }
.banner .run { font-size: 13px; opacity: 0.9; }
.banner .rec { font-size: 17px; margin-top: 4px; }
.v-go { background: #2e7d32; }
.v-conditional { background: #b26a00; }
.v-nogo { background: #b71c1c; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 5px 8px; text-align: left; vertical-align: top; font-size: 14px; overflow-wrap: anywhere; }
td code { overflow-wrap: anywhere; white-space: pre-wrap; }
details.fold summary { cursor: pointer; }
.detail { white-space: pre-wrap; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 44px; text-align: center; padding: 1px 6px; border-radius: 3px; font-weight: 700; font-size: 12px; color: #fff; }
.s-pass { background: #2e7d32; }
.s-warn { background: #b26a00; }
.s-fail { background: #b71c1c; }
.s-skip { background: #757575; }
tr.row-fail td { background: #fdecea; }
tr.row-warn td { background: #fff4e0; }
.reasons li { margin: 3px 0; }
.caveat { background: #fff4e0; border-left: 4px solid #b26a00; padding: 6px 10px; margin: 6px 0; }
.crit { color: #b71c1c; font-weight: 700; font-size: 12px; }
.gate h3 { margin: 18px 0 4px; }
.muted { color: #666; }
pre { background: #272822; color: #f8f8f2; padding: 10px; overflow-x: auto; }
.plots svg { display: block; max-width: 100%; height: auto; margin: 12px 0; background: #fff; }
</style>
</head>
<body>
<header class="banner {{verdictClass .S.OverallStatus}}" id="verdict">
<div class="run">creditgate sign-off · {{.S.Branch}} @ {{.S.Commit}} · {{.Timestamp}}</div>
<div class="verdict">{{.S.OverallStatus}}</div>
<div class="rec">{{.S.Recommendation}}</div>
</header>
<main>
<section id="reasons">
<h2>Why</h2>{{with .S.Measurement}}
<p>Measured {{.Measured}} of {{.Applicable}} applicable checks; {{.NA}} N/A (routes the backend lacks), {{.Skipped}} SKIP (capabilities the target lacks), {{.NotMeasured}} NOT MEASURED.</p>{{end}}
<ul class="reasons">{{range .SignOff}}
<li>{{.}}</li>{{end}}
</ul>{{if .Defects}}
<h3>Defects found</h3>
<ul class="reasons">{{range .Defects}}
<li>{{.}}</li>{{end}}
</ul>{{end}}{{if .Unmeasured}}
<h3>Not measured, because</h3>
<ul class="reasons">{{range .Unmeasured}}
<li>{{.}}</li>{{end}}
</ul>{{end}}{{range .S.Caveats}}
<div class="caveat"><strong>Caveat:</strong> {{.}}</div>{{end}}
</section>

<section id="run">
<h2>Run</h2>
<table>
<tr><th>timestamp</th><td>{{.Timestamp}}</td><th>seed</th><td>{{.S.Facts.Seed}}</td></tr>
<tr><th>branch</th><td>{{.S.Branch}}</td><th>commit</th><td>{{.S.Commit}}</td></tr>
<tr><th>target</th><td>{{.S.TestConfig.Target}}</td><th>profile</th><td>{{.S.TestConfig.Profile}}</td></tr>
<tr><th>concurrency</th><td>{{.S.TestConfig.Concurrency}}</td><th>planned duration</th><td>{{num .S.TestConfig.TestDuration}} s</td></tr>
<tr><th>fsync</th><td>{{onOff .S.TestConfig.Fsync}}</td><th>KARMA enabled</th><td>{{onOff .S.TestConfig.KarmaEnabled}}</td></tr>
<tr><th>ML anomaly injection</th><td>{{onOff .S.TestConfig.MLAnomalyInjection}}</td><th>retry injection</th><td>{{onOff .S.TestConfig.RetryInjection}}</td></tr>{{if .S.TestConfig.Routes}}
<tr><th>routes</th><td colspan="3">{{.S.TestConfig.Routes}}</td></tr>{{end}}
</table>
</section>

<section id="gates">
<h2>Gates</h2>{{range .S.GateDetails}}
<div class="gate" id="gate-{{.ID}}">
<h3><span class="badge {{statusClass .Status}}">{{upper .Status}}</span> Gate {{.ID}} – {{.Name}}{{if .Critical}} <span class="crit">critical gate</span>{{end}}</h3>{{if .Detail}}
<p class="muted">{{.Detail}}</p>{{end}}{{if .Checks}}
<table>
<tr><th>Status</th><th>Check</th><th>Measured</th><th>Threshold</th><th>Detail</th></tr>{{range .Checks}}
<tr class="row-{{.Status}}"><td><span class="badge {{statusClass .Status}}">{{upper .Status}}</span></td><td>{{.Name}}{{if .Critical}} <span class="crit">critical</span>{{end}}</td><td><strong>{{.Measured}}</strong></td><td>{{.Threshold}}</td><td>{{if long .Detail}}<details class="fold"><summary>{{short .Detail}}</summary><div class="detail">{{.Detail}}</div></details>{{else}}<span class="detail">{{.Detail}}</span>{{end}}{{if .Repro}}<br/><code>{{.Repro}}</code>{{end}}</td></tr>{{end}}
</table>{{end}}
</div>{{end}}
</section>

<section id="plots" class="plots">
<h2>Plots</h2>{{range .Plots}}
{{.}}{{end}}
</section>

<section id="scenarios">
<h2>Scenarios</h2>{{if .S.Scenarios}}
<table>
<tr><th>Status</th><th>Scenario</th><th>Duration (s)</th><th>Throughput (req/s)</th><th>P95 (ms)</th><th>Errors</th><th>Invariants</th></tr>{{range .S.Scenarios}}
<tr><td><span class="badge {{statusClass .Status}}">{{upper .Status}}</span></td><td>{{.Name}}{{if .Critical}} <span class="crit">critical</span>{{end}}{{if .Detail}}<br/><span class="muted">{{.Detail}}</span>{{end}}</td><td class="num">{{num .Duration}}</td><td class="num">{{num .Throughput}}</td><td class="num">{{num .P95Latency}}</td><td class="num">{{.Errors}}</td><td>{{if .InvariantsPassed}}held{{else}}<strong>broken</strong>{{end}}</td></tr>{{end}}
</table>{{else}}
<p class="muted">No scenario results recorded.</p>{{end}}
</section>

<section id="latency">
<h2>Latency (ms, from intended send time)</h2>{{if .Latency}}
<table>
<tr><th>Scope</th><th>Count</th><th>P50</th><th>P90</th><th>P95</th><th>P99</th><th>P99.9</th><th>Max</th></tr>{{range .Latency}}
<tr><td>{{.Name}}</td><td class="num">{{.L.Count}}</td><td class="num">{{num .L.P50}}</td><td class="num">{{num .L.P90}}</td><td class="num">{{num .L.P95}}</td><td class="num">{{num .L.P99}}</td><td class="num">{{num .L.P999}}</td><td class="num">{{num .L.Max}}</td></tr>{{end}}
</table>
<p class="muted">Budget: P95 &lt; {{.P95Go}} ms for GO, up to {{.P95Cond}} ms CONDITIONAL.</p>{{else}}
<p class="muted">No latency recorded.</p>{{end}}
</section>

<section id="load-memory">
<h2>Load and memory</h2>
<table>{{with .S.Load}}
<tr><th>rate</th><td>achieved {{num .AchievedRate}} of target {{num .TargetRate}} req/s over {{num .DurationS}} s</td></tr>
<tr><th>requests / errors</th><td>{{.Requests}} / {{.Errors}} ({{num .ErrorRatePct}} %), {{.UnexpectedErrors}} unexpected</td></tr>{{else}}
<tr><th>load</th><td>not measured</td></tr>{{end}}{{with .S.Memory}}
<tr><th>memory trend</th><td><strong>{{slope .SlopeMBPerMin}} MB/min</strong> (budget &lt; 0.1), steady state from {{num .SteadyStateFromS}} s</td></tr>
<tr><th>goroutines / fds</th><td>{{slope .GoroutineSlope}} / {{slope .FDSlope}} per min</td></tr>{{else}}
<tr><th>memory trend</th><td>not measured</td></tr>{{end}}
<tr><th>critical facts</th><td>{{.Facts}}</td></tr>
</table>
</section>

<section id="repro">
<h2>Reproduce</h2>{{if .S.Facts.ReproCommand}}
<pre><code>{{.S.Facts.ReproCommand}}</code></pre>{{else}}
<p class="muted">No repro command recorded (seed {{.S.Facts.Seed}}).</p>{{end}}
</section>{{if .Artifacts}}

<section id="artifacts">
<h2>Artifacts</h2>
<ul>{{range .Artifacts}}
<li>{{if .Local}}<a href="{{.Name}}">{{.Name}}</a>{{else}}{{.Name}} <span class="muted">(not a file of this run; not linked)</span>{{end}}</li>{{end}}
</ul>
</section>{{end}}
</main>
</body>
</html>
`

var pageTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"verdictClass": func(v string) string {
		switch v {
		case VerdictGo:
			return "v-go"
		case VerdictConditional, VerdictIncomplete:
			return "v-conditional"
		default:
			return "v-nogo"
		}
	},
	"statusClass": func(st string) string {
		switch st {
		case StatusPass, ScenarioPassed:
			return "s-pass"
		case StatusWarn:
			return "s-warn"
		case StatusSkip, ScenarioSkipped, StatusNA, StatusNotMeasured:
			return "s-skip"
		default:
			return "s-fail"
		}
	},
	"upper": strings.ToUpper,
	"long":  func(s string) bool { return len(s) > foldAbove || strings.Count(s, "\n") > 3 },
	"short": shortDetail,
	"onOff": onOff,
	"num":   anyNum,
	"slope": fmtSlope,
}).Parse(htmlTemplate))

// foldAbove is the detail length (bytes) from which a check's detail is
// folded into <details>, its first line shown as the summary.
const foldAbove = 240

// shortDetail is the summary of a folded detail: its first line, cut at a
// rune boundary near 120 bytes.
func shortDetail(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 120 {
		cut := 120
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut]
	}
	return line + " … (more)"
}

// artifactLink: only files inside the run directory are linked, so a
// hand-edited summary.json cannot make the page point elsewhere.
type artifactLink struct {
	Name  string
	Local bool
}

// anyNum formats the numeric types of the model for the template.
func anyNum(v any) string {
	switch x := v.(type) {
	case float64:
		return fmtNum(x)
	case Seconds:
		return fmtNum(float64(x))
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	default:
		return fmt.Sprint(v)
	}
}

type latencyRow struct {
	Name string
	L    LatencyStats
}

// HTML renders the self-contained report.html from a finalized summary.
func HTML(s *Summary) ([]byte, error) {
	data := struct {
		S          *Summary
		Timestamp  string
		Plots      []template.HTML
		Latency    []latencyRow
		P95Go      float64
		P95Cond    float64
		Artifacts  []artifactLink
		Facts      string
		SignOff    []string
		Defects    []string
		Unmeasured []string
	}{S: s, Facts: CriticalFacts(s), Timestamp: s.Timestamp.UTC().Format(time.RFC3339), Plots: plots(s), P95Go: P95GoMs, P95Cond: P95ConditionalMaxMs}
	if l := s.Latency; l != nil {
		data.Latency = append(data.Latency, latencyRow{"overall", l.Overall})
		for _, n := range sortedKeys(l.PerEndpoint) {
			data.Latency = append(data.Latency, latencyRow{"endpoint " + n, l.PerEndpoint[n]})
		}
		for _, n := range sortedKeys(l.PerPhase) {
			data.Latency = append(data.Latency, latencyRow{"phase " + n, l.PerPhase[n]})
		}
	}
	data.SignOff, data.Defects, data.Unmeasured = SplitReasons(s.VerdictReasons)
	data.Unmeasured = append(data.Unmeasured, unmeasuredNotes(s)...)
	for _, a := range s.Artifacts {
		data.Artifacts = append(data.Artifacts, artifactLink{Name: a, Local: validArtifactName(a) == nil})
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
