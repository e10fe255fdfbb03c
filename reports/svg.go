package reports

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// A tiny line-plot writer: enough for four fixed plots, no library, no script.
// Every piece of text goes through template.HTMLEscapeString; the result is
// handed to html/template as trusted HTML, so this file is the one place
// where escaping is done by hand.

const (
	plotW, plotH                                 = 720, 300
	marginL, marginR, marginT, marginB           = 70, 20, 40, 50
	maxPlotPoints                                = 2000 // per series, after min/max decimation
	colorBlue, colorOrange, colorRed, colorGreen = "#1f77b4", "#e8710a", "#c62828", "#2e7d32"
	colorGray                                    = "#6b6b6b"
)

type series struct {
	name   string
	color  string
	xs, ys []float64
	dashed bool
}

type tick struct {
	v     float64
	label string
}

// refLine is a horizontal (budget, target) or vertical (phase start) marker.
type refLine struct {
	v        float64
	label    string
	color    string
	vertical bool
}

// band is a shaded x range: a fault window, labelled with the fault.
type band struct {
	lo, hi        float64
	label, detail string
}

type plot struct {
	id, title, xLabel, yLabel string
	series                    []series
	refs                      []refLine
	bands                     []band
	xTicks                    []tick // fixed x ticks (percentile axis); nil = nice ticks over the data
	xMin, xMax                *float64
	note                      string // one line under the title, e.g. the fitted slope
	emptyReason               string // why there is no data, for the placeholder
}

func (p *plot) hasData() bool {
	for _, s := range p.series {
		if min(len(s.xs), len(s.ys)) > 0 {
			return true
		}
	}
	return false
}

// svg renders the plot, or a "no data" placeholder that is still a valid,
// titled svg so the page layout and the tests see every plot.
func (p *plot) svg() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg id="%s" class="plot" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-title">`,
		esc(p.id), plotW, plotH, plotW, plotH, esc(p.id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, esc(p.id), esc(p.title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff" stroke="#d0d0d0"/>`, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold" fill="#222">%s</text>`, marginL, esc(p.title))
	if !p.hasData() {
		reason := "no data"
		if p.emptyReason != "" {
			reason = "no data: " + p.emptyReason
		}
		fmt.Fprintf(&b, `<rect class="nodata" x="%d" y="%d" width="%d" height="%d" fill="#f4f4f4" stroke="#bbb" stroke-dasharray="6 4"/>`,
			marginL, marginT, plotW-marginL-marginR, plotH-marginT-marginB)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="16" fill="#555">%s</text>`,
			(plotW+marginL-marginR)/2, (plotH+marginT-marginB)/2, esc(reason))
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}

	// Domains: x over the data (or fixed), y from 0 so that slopes are not exaggerated.
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := 0.0, math.Inf(-1)
	for _, s := range p.series {
		for i := 0; i < min(len(s.xs), len(s.ys)); i++ {
			xlo, xhi = math.Min(xlo, s.xs[i]), math.Max(xhi, s.xs[i])
			ylo, yhi = math.Min(ylo, s.ys[i]), math.Max(yhi, s.ys[i])
		}
	}
	for _, r := range p.refs {
		if !r.vertical {
			yhi = math.Max(yhi, r.v)
		}
	}
	for _, bd := range p.bands { // a fault after the last operation still shows
		xlo, xhi = math.Min(xlo, bd.lo), math.Max(xhi, bd.hi)
	}
	if p.xMin != nil {
		xlo = *p.xMin
	}
	if p.xMax != nil {
		xhi = *p.xMax
	}
	yt := niceTicks(ylo, yhi, 6)
	ylo, yhi = yt[0].v, yt[len(yt)-1].v
	xt := p.xTicks
	if xt == nil {
		xt = niceTicks(xlo, xhi, 8)
		xlo, xhi = xt[0].v, xt[len(xt)-1].v
	}
	if xhi <= xlo {
		xhi = xlo + 1
	}
	x0, x1 := float64(marginL), float64(plotW-marginR)
	y0, y1 := float64(plotH-marginB), float64(marginT)
	sx := func(v float64) float64 { return x0 + (v-xlo)/(xhi-xlo)*(x1-x0) }
	sy := func(v float64) float64 { return y0 + (v-ylo)/(yhi-ylo)*(y1-y0) }

	b.WriteString(`<g class="grid" stroke="#ececec">`)
	for _, t := range yt {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, f1(x0), f1(sy(t.v)), f1(x1), f1(sy(t.v)))
	}
	b.WriteString(`</g><g class="ticks" font-size="11" fill="#444">`)
	for _, t := range yt {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, f1(x0-6), f1(sy(t.v)+4), esc(t.label))
	}
	for _, t := range xt {
		if t.v < xlo || t.v > xhi {
			continue
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f1(sx(t.v)), f1(y0+16), esc(t.label))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<g class="axes" stroke="#333"><line x1="%s" y1="%s" x2="%s" y2="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s"/></g>`,
		f1(x0), f1(y0), f1(x1), f1(y0), f1(x0), f1(y0), f1(x0), f1(y1))
	fmt.Fprintf(&b, `<text class="xlabel" x="%s" y="%d" text-anchor="middle" font-size="12" fill="#222">%s</text>`,
		f1((x0+x1)/2), plotH-12, esc(p.xLabel))
	fmt.Fprintf(&b, `<text class="ylabel" x="16" y="%s" text-anchor="middle" font-size="12" fill="#222" transform="rotate(-90 16 %s)">%s</text>`,
		f1((y0+y1)/2), f1((y0+y1)/2), esc(p.yLabel))

	p.drawBands(&b, sx, x0, x1, y0, y1)
	for _, r := range p.refs {
		if r.vertical {
			if r.v < xlo || r.v > xhi {
				continue
			}
			fmt.Fprintf(&b, `<line class="ref" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="4 4"/>`,
				f1(sx(r.v)), f1(y0), f1(sx(r.v)), f1(y1), r.color)
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="%s">%s</text>`, f1(sx(r.v)+4), f1(y1+12), r.color, esc(r.label))
			continue
		}
		fmt.Fprintf(&b, `<line class="ref" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="8 4"/>`,
			f1(x0), f1(sy(r.v)), f1(x1), f1(sy(r.v)), r.color)
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" text-anchor="end" fill="%s">%s</text>`, f1(x1-4), f1(sy(r.v)-4), r.color, esc(r.label))
	}

	for _, s := range p.series {
		xs, ys := decimate(s.xs, s.ys, maxPlotPoints)
		if len(xs) == 0 {
			continue
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 3"`
		}
		var pts strings.Builder
		for i := range xs {
			if i > 0 {
				pts.WriteByte(' ')
			}
			pts.WriteString(f1(sx(xs[i])) + "," + f1(sy(ys[i])))
		}
		fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s</title></polyline>`,
			s.color, dash, pts.String(), esc(s.name))
		if len(xs) == 1 { // a single point draws no line: mark it
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`, f1(sx(xs[0])), f1(sy(ys[0])), s.color)
		}
	}

	// Legend in one row between the title and the plot area, so it never covers data.
	lx := float64(marginL)
	for _, s := range p.series {
		fmt.Fprintf(&b, `<line x1="%s" y1="38" x2="%s" y2="38" stroke="%s" stroke-width="3"/>`, f1(lx), f1(lx+18), s.color)
		fmt.Fprintf(&b, `<text x="%s" y="42" font-size="11" fill="#222">%s</text>`, f1(lx+24), esc(s.name))
		lx += 24 + 7*float64(len([]rune(s.name))) + 18
	}
	if p.note != "" {
		fmt.Fprintf(&b, `<text class="note" x="%d" y="22" text-anchor="end" font-size="12" fill="#333">%s</text>`, plotW-marginR, esc(p.note))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// colorBand shades fault windows; bands at least bandMinPx wide so an
// instantaneous fault (a power cut) stays visible.
const (
	colorBand = "#c62828"
	bandMinPx = 3
)

// drawBands shades each band over the plot area, under the series, with
// its label written upwards at its left edge (skipped when it would
// overlap the previous label; the full name and detail are the band's
// tooltip).
func (p *plot) drawBands(b *strings.Builder, sx func(float64) float64, x0, x1, y0, y1 float64) {
	if len(p.bands) == 0 {
		return
	}
	esc := template.HTMLEscapeString
	b.WriteString(`<g class="fault-windows">`)
	lastLabel := math.Inf(-1)
	for _, bd := range p.bands {
		lo, hi := math.Max(x0, sx(bd.lo)), math.Min(x1, sx(bd.hi))
		if hi-lo < bandMinPx {
			hi = math.Min(x1, lo+bandMinPx)
		}
		fmt.Fprintf(b, `<rect class="fault-window" x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.15" stroke="%s" stroke-opacity="0.4"><title>%s</title></rect>`,
			f1(lo), f1(y1), f1(hi-lo), f1(y0-y1), colorBand, colorBand, esc(strings.TrimSpace(bd.label+": "+bd.detail)))
		if lo-lastLabel >= 12 {
			fmt.Fprintf(b, `<text class="fault-label" x="%s" y="%s" font-size="10" fill="%s" transform="rotate(-90 %s %s)">%s</text>`,
				f1(lo+10), f1(y0-4), colorBand, f1(lo+10), f1(y0-4), esc(bd.label))
			lastLabel = lo
		}
	}
	b.WriteString(`</g>`)
}

// f1 formats a coordinate with one decimal: compact and deterministic.
func f1(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []tick {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) {
		lo, hi = 0, 1
	}
	if hi <= lo {
		hi = lo + math.Max(1, math.Abs(lo)*0.1)
	}
	step := niceNum((hi-lo)/float64(n-1), true)
	start := math.Floor(lo/step) * step
	end := math.Ceil(hi/step) * step
	var out []tick
	for i := 0; ; i++ {
		v := start + float64(i)*step
		if v > end+step/2 || i > 100 {
			break
		}
		out = append(out, tick{v: v, label: fmtNum(v)})
	}
	return out
}

// niceNum rounds x to 1, 2, 5 or 10 times a power of ten (Heckbert's nice numbers).
func niceNum(x float64, round bool) float64 {
	if x <= 0 {
		return 1
	}
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, exp)
}

// decimate keeps at most limit points by emitting each bucket's min and max
// (in x order): spikes and dips stay visible, unlike plain striding.
func decimate(xs, ys []float64, limit int) ([]float64, []float64) {
	n := min(len(xs), len(ys))
	if n <= limit {
		return xs[:n], ys[:n]
	}
	bucket := int(math.Ceil(float64(n) / float64(limit/2)))
	var ox, oy []float64
	for start := 0; start < n; start += bucket {
		end := min(start+bucket, n)
		lo, hi := start, start
		for i := start; i < end; i++ {
			if ys[i] < ys[lo] {
				lo = i
			}
			if ys[i] > ys[hi] {
				hi = i
			}
		}
		a, c := min(lo, hi), max(lo, hi)
		ox, oy = append(ox, xs[a]), append(oy, ys[a])
		if c != a {
			ox, oy = append(ox, xs[c]), append(oy, ys[c])
		}
	}
	return ox, oy
}

// nines maps a percentile to the log-ish x axis: 0→0, 90→1, 99→2, 99.9→3, 99.99→4.
func nines(p float64) float64 {
	if p >= 99.99 {
		return 4
	}
	return -math.Log10(1 - p/100)
}
