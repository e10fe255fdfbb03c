package audit

import (
	"container/heap"
	"fmt"
	"sort"

	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

// Real-time rules: cheap checks of the recorded call/return times against
// the journal, in the spirit of porcupine/Jepsen but without a full
// linearizability search. A write's interval is [first call of its key,
// first acknowledgement of its key]; a balance read reflects some prefix of
// the journal's entries for its agent.
const (
	CheckReadsReflectWrites = "RT1 a read (balance, history) reflects every write acknowledged before it was sent, and no write sent after it returned"
	CheckReadsMonotonic     = "RT2 per agent, reads that follow one another never go back in time (restarts included)"
	CheckDecisionsDecided   = "RT3 a decision sent after its request's decision returned is refused already_decided"
	CheckWinnersDurable     = "RT4 every already_decided answer names a decision the journal keeps"
)

const never = int64(1<<63 - 1)

// cmdTimes is what the history says about one journaled command.
type cmdTimes struct {
	firstCall int64 // earliest call of an op naming it (never: no op)
	ackReturn int64 // earliest return of an acknowledgement (never: none)
}

// commandTimes maps the seq of every journaled event to the times of its
// command (events of one command share them), from the ops that name it by
// key or, when keyless, by event id.
func commandTimes(j *Journal, ops []Op) map[uint64]*cmdTimes {
	g := groupTx(j.Events(), j.Ours)
	byKey := map[string]*cmdTimes{}
	byID := map[string]*cmdTimes{}
	perEvent := make([]*cmdTimes, len(g.evs))
	for i, e := range g.evs {
		if g.primary[i] != i {
			perEvent[i] = perEvent[g.primary[i]]
			continue
		}
		t := &cmdTimes{firstCall: never, ackReturn: never}
		perEvent[i] = t
		byID[e.EventID] = t
		if _, dup := byKey[e.IdempotencyKey]; !dup && !isServerKey(e) {
			byKey[e.IdempotencyKey] = t
		}
	}
	for _, o := range ops {
		if !o.Kind.Mutation() {
			continue
		}
		t := byKey[o.Key]
		if o.Key == "" {
			t = byID[o.EventID]
		}
		if t == nil {
			continue
		}
		t.firstCall = min(t.firstCall, o.CallNs)
		if o.Outcome.Acked() {
			t.ackReturn = min(t.ackReturn, o.ReturnNs)
		}
	}
	out := make(map[uint64]*cmdTimes, len(g.evs))
	for i, e := range g.evs {
		out[e.Seq] = perEvent[i]
	}
	return out
}

// agentSeries is one agent's ledger: bal[k] is the balance after the first
// k entries (bal[0] = 0), with each entry's command times.
type agentSeries struct {
	bal   []int64
	times []*cmdTimes // per entry
	// byValue lists the prefixes k holding each balance, ascending.
	byValue map[int64][]int
	// prefixOf maps an entry's event id to the prefix that ends with it.
	prefixOf map[string]int
}

func newSeries(entries []LedgerEntry, ct map[uint64]*cmdTimes) *agentSeries {
	s := &agentSeries{bal: make([]int64, len(entries)+1), times: make([]*cmdTimes, len(entries)), byValue: map[int64][]int{},
		prefixOf: map[string]int{"": 0}}
	for i, le := range entries {
		s.bal[i+1] = le.BalanceAfterMilli
		s.prefixOf[le.EventID] = i + 1
		t := ct[le.Seq]
		if t == nil {
			t = &cmdTimes{firstCall: never, ackReturn: never}
		}
		s.times[i] = t
	}
	for k, b := range s.bal {
		s.byValue[b] = append(s.byValue[b], k)
	}
	return s
}

// consistent returns the smallest prefix k in [lo, hi] the read can
// reflect, or -1: for a balance read, bal[k] equals the value read; for a
// history read (newest first), the newest entry returned ends prefix k.
func (s *agentSeries) consistent(r Op, lo, hi int) int {
	if r.Kind == history.KindReadHistory {
		k, ok := s.prefixOf[r.ReadNewest]
		if !ok || k < lo || k > hi {
			return -1
		}
		return k
	}
	return s.smallest(r.ReadMilli, lo, hi)
}

// smallest returns the smallest k in [lo, hi] with bal[k] == v, or -1.
func (s *agentSeries) smallest(v int64, lo, hi int) int {
	ks := s.byValue[v]
	i := sort.SearchInts(ks, lo)
	if i < len(ks) && ks[i] <= hi {
		return ks[i]
	}
	return -1
}

// readBounds returns, per read (in the given order), kmin (every entry
// acknowledged before the read's call is in the prefix) and kmax (no entry
// whose command was first sent after the read returned is).
func (s *agentSeries) readBounds(reads []Op) (kmin, kmax []int) {
	n := len(s.times)
	kmin, kmax = make([]int, len(reads)), make([]int, len(reads))
	byAck := make([]int, n)
	var byCall []int // entries whose command some op sent
	for i := range byAck {
		byAck[i] = i
		if s.times[i].firstCall != never {
			byCall = append(byCall, i)
		}
	}
	sort.Slice(byAck, func(a, b int) bool { return s.times[byAck[a]].ackReturn < s.times[byAck[b]].ackReturn })
	sort.Slice(byCall, func(a, b int) bool { return s.times[byCall[a]].firstCall > s.times[byCall[b]].firstCall })
	order := make([]int, len(reads))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return reads[order[a]].CallNs < reads[order[b]].CallNs })
	p, lo := 0, 0
	for _, r := range order {
		for p < n && s.times[byAck[p]].ackReturn < reads[r].CallNs {
			lo = max(lo, byAck[p]+1)
			p++
		}
		kmin[r] = lo
	}
	sort.Slice(order, func(a, b int) bool { return reads[order[a]].ReturnNs > reads[order[b]].ReturnNs })
	p, hi := 0, n
	for _, r := range order {
		for p < len(byCall) && s.times[byCall[p]].firstCall > reads[r].ReturnNs {
			hi = min(hi, byCall[p])
			p++
		}
		kmax[r] = hi
	}
	return kmin, kmax
}

// finished is a read already placed: its return time and the earliest
// journal prefix it can reflect.
type finished struct {
	ret  int64
	minK int
}

type finishedHeap []finished

func (h finishedHeap) Len() int           { return len(h) }
func (h finishedHeap) Less(i, j int) bool { return h[i].ret < h[j].ret }
func (h finishedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *finishedHeap) Push(x any)        { *h = append(*h, x.(finished)) }
func (h *finishedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// RealtimeReads checks every successful balance and history read of ops
// against the journal j folded by m (the same journal):
//
// RT1: the read reflects some prefix of the agent's journal entries that
// includes every entry whose command was acknowledged before the read was
// sent and excludes every entry whose command was first sent after the
// read returned. A balance read reflects prefix k when its value is the
// balance after k entries; a history read (newest first, offset 0) when its
// newest entry is entry k (none: k = 0).
//
// RT2: reads of one agent that do not overlap (one returned before the next
// was sent) reflect non-decreasing prefixes: a later read never shows an
// older state, also across a restart of the backend.
//
// It returns the RT1 and RT2 findings; the measured value counts the reads
// checked.
func RealtimeReads(j *Journal, m *Model, ops []Op) (reflect, monotonic Finding) {
	ct := commandTimes(j, ops)
	reads := map[string][]Op{}
	total := 0
	for _, o := range ops {
		if (o.Kind == history.KindReadBalance || o.Kind == history.KindReadHistory) && o.Outcome == history.OK && o.HasRead && o.Agent != "" {
			reads[o.Agent] = append(reads[o.Agent], o)
			total++
		}
	}
	var v1, v2 violations
	agents := make([]string, 0, len(reads))
	for a := range reads {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	for _, a := range agents {
		rs := reads[a]
		sort.SliceStable(rs, func(i, k int) bool { return rs[i].CallNs < rs[k].CallNs })
		s := newSeries(m.Ledgers[a], ct)
		kmin, kmax := s.readBounds(rs)
		h := &finishedHeap{}
		floor := 0 // the earliest prefix a read may reflect, given the reads that returned before it was sent
		for i, r := range rs {
			for h.Len() > 0 && (*h)[0].ret < r.CallNs {
				floor = max(floor, heap.Pop(h).(finished).minK)
			}
			k := -1
			if kmin[i] <= kmax[i] {
				k = s.consistent(r, kmin[i], kmax[i])
			}
			if k < 0 {
				v1.add("agent %q: %s op %d [%d, %d] ns returned %s; allowed: the state after %d..%d of its %d journal entries (%s)",
					a, r.Kind, r.ID, r.CallNs, r.ReturnNs, readValue(r), kmin[i], kmax[i], len(s.times), allowedValues(s, r, kmin[i], kmax[i]))
				continue
			}
			if k2 := s.consistent(r, max(kmin[i], floor), kmax[i]); k2 >= 0 {
				k = k2
			} else {
				v2.add("agent %q: %s op %d [%d, %d] ns returned %s, the state after %d entries, but an earlier read that returned before it was sent already showed the state after %d",
					a, r.Kind, r.ID, r.CallNs, r.ReturnNs, readValue(r), k, floor)
			}
			heap.Push(h, finished{ret: r.ReturnNs, minK: k})
		}
	}
	detail := fmt.Sprintf("%d reads of %d agents; write interval = [first call, first acknowledgement] of its key", total, len(agents))
	reflect = v1.finding(CheckReadsReflectWrites, countMeasured(&v1, total, "reads"), "0", detail)
	monotonic = v2.finding(CheckReadsMonotonic, countMeasured(&v2, total, "reads"), "0", detail)
	return reflect, monotonic
}

// readValue renders what a read returned.
func readValue(r Op) string {
	if r.Kind == history.KindReadHistory {
		return fmt.Sprintf("newest entry %q", r.ReadNewest)
	}
	return money.FormatMilli(r.ReadMilli)
}

// allowedValues renders what a read could have returned.
func allowedValues(s *agentSeries, r Op, lo, hi int) string {
	if lo > hi {
		return "none: a write acknowledged before the read was sent started after it returned"
	}
	if r.Kind == history.KindReadHistory {
		if k, ok := s.prefixOf[r.ReadNewest]; ok {
			return fmt.Sprintf("its newest entry ends prefix %d", k)
		}
		return "its newest entry is none of the agent's journal entries"
	}
	out := ""
	for k := lo; k <= hi && k < lo+5; k++ {
		if out != "" {
			out += ", "
		}
		out += money.FormatMilli(s.bal[k])
	}
	if hi >= lo+5 {
		out += ", …"
	}
	return out
}

// RealtimeDecisions (RT3): once a decision of an approval request has been
// acknowledged with a terminal status (anything but pending), every
// decision of that request sent later is refused already_decided — unless
// it is a replay of the acknowledged decision's own key. Unknown outcomes
// are not judged. (An already_decided answer is not taken as evidence
// here: whether the winner it names exists is RT4's question.)
func RealtimeDecisions(ops []Op) Finding {
	byReq := map[string][]Op{}
	n := 0
	for _, o := range ops {
		if o.Kind.Decision() && o.Entity != "" {
			byReq[o.Entity] = append(byReq[o.Entity], o)
			n++
		}
	}
	var v violations
	reqs := make([]string, 0, len(byReq))
	for r := range byReq {
		reqs = append(reqs, r)
	}
	sort.Strings(reqs)
	checked := 0
	for _, req := range reqs {
		ds := byReq[req]
		decided, by := never, Op{}
		for _, d := range ds {
			terminal := d.Outcome.Acked() && d.State != "pending"
			if terminal && d.ReturnNs < decided {
				decided, by = d.ReturnNs, d
			}
		}
		for _, d := range ds {
			if d.CallNs <= decided || d.Outcome == history.Unknown {
				continue
			}
			checked++
			switch {
			case d.Outcome == history.Refused && d.Code == "already_decided":
			case d.Outcome == history.Replayed && d.Key != "" && d.Key == by.Key:
			default:
				v.add("request %s: op %d (%s) sent %d ns after op %d's terminal answer returned got %s %d %q, want 409 already_decided",
					req, d.ID, d.Kind, d.CallNs-decided, by.ID, d.Outcome, d.Status, d.Code)
			}
		}
	}
	return v.finding(CheckDecisionsDecided, countMeasured(&v, checked, "decisions sent after a terminal answer"), "0",
		fmt.Sprintf("%d decisions on %d requests", n, len(byReq)))
}

// WinnersDurable (RT4): an already_decided refusal tells the client which
// decision won; that decision event must be in the journal (read after
// every restart). A backend that shows a decision to other deciders before
// it is durable fails this when a crash loses the winner: the losers were
// told of a decision that never happened (a dirty read).
func WinnersDurable(j *Journal, ops []Op) Finding {
	ids := map[string]bool{}
	for _, e := range j.Events() {
		ids[e.EventID] = true
	}
	var v violations
	n := 0
	for _, o := range ops {
		if !o.Kind.Decision() || o.Outcome != history.Refused || o.Code != "already_decided" || o.WinnerEventID == "" {
			continue
		}
		n++
		if !ids[o.WinnerEventID] {
			v.add("request %s: op %d (%s, returned at %d ns) was refused already_decided naming decision %s, which the journal does not hold",
				o.Entity, o.ID, o.Kind, o.ReturnNs, o.WinnerEventID)
		}
	}
	return v.finding(CheckWinnersDurable, countMeasured(&v, n, "already_decided answers"), "0", "")
}
