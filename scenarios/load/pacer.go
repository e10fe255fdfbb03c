package load

import (
	"fmt"
	"math"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Pacer is a rate schedule made of linear pieces: within each piece the rate
// goes linearly from one value to another. Hit i (0-based) is scheduled at the
// time T where the cumulative number of hits ∫₀ᵀ rate = i, so hit 0 is at
// the start. Because the schedule is explicit, HitAt gives the intended send
// time of any hit, which is what latency is measured from.
//
// A Pacer is an immutable value; it is safe for concurrent use. It implements
// vegeta.Pacer.
type Pacer struct {
	segs []segment
	end  float64 // seconds; +Inf when open-ended
}

// segment is one linear piece. Times in seconds, rates in hits per second.
type segment struct {
	start, dur float64 // dur may be +Inf only for the last, constant segment
	from, to   float64
	hits0      float64 // cumulative hits at start
}

var _ vegeta.Pacer = Pacer{}

// maxRate bounds every pacer (hits per second); the harness is not a
// benchmark of the load generator.
const maxRate = 100_000

// Constant schedules rate hits per second, evenly spaced.
func Constant(rate float64) Pacer {
	return newPacer([]segment{{dur: math.Inf(1), from: rate, to: rate}})
}

// Ramp goes linearly from `from` to `to` hits per second over dur, then holds `to`.
func Ramp(from, to float64, dur time.Duration) Pacer {
	return newPacer([]segment{
		{dur: dur.Seconds(), from: from, to: to},
		{dur: math.Inf(1), from: to, to: to},
	})
}

// Spike holds base hits per second, jumps to peak at `at` for `width`, and
// returns to base: a square spike, the harshest shape for queues.
func Spike(base, peak float64, at, width time.Duration) Pacer {
	return newPacer([]segment{
		{dur: at.Seconds(), from: base, to: base},
		{dur: width.Seconds(), from: peak, to: peak},
		{dur: math.Inf(1), from: base, to: base},
	})
}

func newPacer(segs []segment) Pacer {
	out := make([]segment, 0, len(segs))
	var t, n float64
	for _, s := range segs {
		if s.dur <= 0 {
			continue
		}
		s.start, s.hits0 = t, n
		out = append(out, s)
		t += s.dur
		n += s.hits()
	}
	return Pacer{segs: out, end: math.Inf(1)}
}

func (s segment) slope() float64 {
	if math.IsInf(s.dur, 1) {
		return 0
	}
	return (s.to - s.from) / s.dur
}

// hits is the number of hits scheduled within the segment.
func (s segment) hits() float64 {
	if math.IsInf(s.dur, 1) {
		if s.from > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return (s.from + s.to) / 2 * s.dur
}

// offsetOf solves from·x + slope·x²/2 = m for x ≥ 0 in the numerically stable
// form x = 2m / (from + √(from² + 2·slope·m)).
func (s segment) offsetOf(m float64) float64 {
	if m <= 0 {
		return 0
	}
	a, k := s.from, s.slope()
	d := a*a + 2*k*m
	if d < 0 {
		d = 0
	}
	den := a + math.Sqrt(d)
	if den <= 0 {
		return s.dur
	}
	return 2 * m / den
}

// Truncate returns the pacer cut off at d: no hit is scheduled at or after d.
func (p Pacer) Truncate(d time.Duration) Pacer {
	end := d.Seconds()
	if end >= p.end {
		return p
	}
	segs := make([]segment, 0, len(p.segs))
	for _, s := range p.segs {
		if s.start >= end {
			break
		}
		if s.start+s.dur > end {
			x := end - s.start
			s.to = s.from + s.slope()*x
			s.dur = x
		}
		segs = append(segs, s)
	}
	q := newPacer(segs)
	q.end = end
	return q
}

// Then appends next, shifted to start when p has run for d (p is truncated at d).
func (p Pacer) Then(d time.Duration, next Pacer) Pacer {
	head := p.Truncate(d)
	segs := append([]segment(nil), head.segs...)
	if total := sumDur(segs); total < d.Seconds() {
		// p had nothing scheduled up to d (e.g. a zero-rate tail): keep time.
		segs = append(segs, segment{dur: d.Seconds() - total})
	}
	segs = append(segs, next.segs...)
	q := newPacer(segs)
	if !math.IsInf(next.end, 1) {
		q.end = d.Seconds() + next.end
	}
	return q
}

func sumDur(segs []segment) float64 {
	var t float64
	for _, s := range segs {
		t += s.dur
	}
	return t
}

// End is when the pacer stops scheduling hits (0 when open-ended).
func (p Pacer) End() time.Duration {
	if math.IsInf(p.end, 1) {
		return 0
	}
	return secondsToDuration(p.end)
}

// HitAt returns the intended send time of hit i relative to the attack start,
// and false when the pacer never schedules hit i.
func (p Pacer) HitAt(i uint64) (time.Duration, bool) {
	n := float64(i)
	for _, s := range p.segs {
		h := s.hits()
		if n >= s.hits0+h {
			continue
		}
		t := s.start + s.offsetOf(n-s.hits0)
		if !(t < p.end) {
			return 0, false
		}
		return secondsToDuration(t), true
	}
	return 0, false
}

// Pace implements vegeta.Pacer: wait until hit number `hits` is due; send at
// once when behind (the lateness then shows in that hit's latency).
func (p Pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	t, ok := p.HitAt(hits)
	if !ok {
		return 0, true
	}
	if w := t - elapsed; w > 0 {
		return w, false
	}
	return 0, false
}

// Rate implements vegeta.Pacer: the instantaneous rate in hits per second.
func (p Pacer) Rate(elapsed time.Duration) float64 {
	t := elapsed.Seconds()
	if t < 0 || t >= p.end {
		return 0
	}
	for _, s := range p.segs {
		if t < s.start+s.dur {
			return s.from + s.slope()*(t-s.start)
		}
	}
	return 0
}

// maxRate returns the highest rate anywhere in the schedule.
func (p Pacer) maxRate() float64 {
	var m float64
	for _, s := range p.segs {
		m = math.Max(m, math.Max(s.from, s.to))
	}
	return m
}

func (p Pacer) validate() error {
	for _, s := range p.segs {
		for _, r := range []float64{s.from, s.to} {
			if math.IsNaN(r) || r < 0 || r > maxRate {
				return fmt.Errorf("load: pacer rate %v outside [0, %d] hits/s", r, maxRate)
			}
		}
	}
	return nil
}

func (p Pacer) String() string {
	var b strings.Builder
	b.WriteString("Pacer{")
	for i, s := range p.segs {
		if i > 0 {
			b.WriteString(" ")
		}
		if math.IsInf(s.dur, 1) {
			fmt.Fprintf(&b, "%g/s…", s.from)
			continue
		}
		fmt.Fprintf(&b, "%g→%g/s for %s", s.from, s.to, secondsToDuration(s.dur))
	}
	b.WriteString("}")
	return b.String()
}

func secondsToDuration(s float64) time.Duration {
	return time.Duration(math.Round(s * 1e9))
}
