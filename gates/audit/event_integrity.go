package audit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/creditgate/creditgate/scenarios/history"
)

// Check names of gate A.
const (
	CheckChecksum    = "A1 every line parses and passes its checksum"
	CheckSeq         = "A2 seq is gapless and strictly increasing"
	CheckSchema      = "A3 schema_version >= 1"
	CheckCorrelation = "A4 correlation_id is non-empty"
	CheckCausation   = "A5 causation_id names an earlier event of the same subject; a derived event names the cause SPEC §2 gives it"
	CheckEventIDs    = "A6 event_id is a unique UUID v4"
	CheckKeysOnce    = "A7 each idempotency key appears at most once"
	CheckHistory     = "A8 acknowledged ops are journaled once, refused never, nothing unrequested"
	CheckRetries     = "A9 acknowledged ops and retries name the original event"
	CheckTx          = "A10 multi-event commands are complete and contiguous"
)

// GateA runs every gate A check over the journal and the client history.
func GateA(j *Journal, ops []Op, opt HistoryOptions) []Finding {
	return []Finding{
		CheckLines(j), CheckSeqGapless(j), CheckSchemaVersion(j), CheckCorrelationIDs(j),
		CheckCausationEarlier(j), CheckEventIDsUnique(j), CheckKeysUnique(j),
		CheckHistoryExact(j, ops, opt), CheckRetriesOriginal(j, ops), CheckTxComplete(j), CheckTimestamps(j),
	}
}

// CheckLines: every line parses and passes its checksum, and the last one
// is newline-terminated.
func CheckLines(j *Journal) Finding {
	var v violations
	for _, l := range j.Lines {
		if l.Err != nil {
			v.add("line %d: %v: %s", l.No, l.Err, truncate(string(l.Raw), 120))
		}
	}
	v.judged = len(j.Lines)
	if j.Checksum == nil && v.count == 0 {
		// Every line parses, but whether it is intact cannot be told.
		v.judged = 0
		return v.finding(CheckChecksum, fmt.Sprintf("%d lines parse; no checksum verified", len(j.Lines)), "0 bad lines",
			"no line carries a checksum this harness recognizes (SPEC §3 fixes neither its member nor its encoding; "+
				"recognized: CRC32-C or CRC32 hex, optionally after a \"name:\" prefix, in the first or last member named "+
				strings.Join(checksumMembers, ", ")+", over the line without it)")
	}
	return v.finding(CheckChecksum, fmt.Sprintf("%d bad of %d lines", v.count, len(j.Lines)), "0 bad lines", j.Checksum.String())
}

// CheckSeqGapless: valid events' seq run AfterSeq+1, AfterSeq+2, … without
// gap or repeat.
func CheckSeqGapless(j *Journal) Finding {
	var v violations
	want := j.AfterSeq + 1
	evs := j.Events()
	for _, e := range evs {
		switch {
		case e.Seq == want:
		case e.Seq < want:
			v.add("seq %d (event %s) repeats or goes back: expected %d", e.Seq, e.EventID, want)
			continue
		default:
			v.add("gap: expected seq %d, found %d (event %s)", want, e.Seq, e.EventID)
		}
		want = e.Seq + 1
	}
	return v.finding(CheckSeq, countMeasured(&v, len(evs), "events"), "0", fmt.Sprintf("first expected seq %d", j.AfterSeq+1))
}

// CheckSchemaVersion: every event's schema_version is at least 1.
func CheckSchemaVersion(j *Journal) Finding {
	var v violations
	evs := j.Events()
	for _, e := range evs {
		if e.SchemaVersion < 1 {
			v.add("seq %d (%s): schema_version %d", e.Seq, e.EventID, e.SchemaVersion)
		}
	}
	return v.finding(CheckSchema, countMeasured(&v, len(evs), "events"), "0", "")
}

// CheckCorrelationIDs: correlation_id is never empty.
func CheckCorrelationIDs(j *Journal) Finding {
	var v violations
	evs := j.Events()
	for _, e := range evs {
		if strings.TrimSpace(e.CorrelationID) == "" {
			v.add("seq %d (%s %s): empty correlation_id", e.Seq, e.EventType, e.EventID)
		}
	}
	return v.finding(CheckCorrelation, countMeasured(&v, len(evs), "events"), "0", "")
}

// CheckCausationEarlier: every non-null causation_id names the event_id of
// an event earlier in the journal, about the same subject, and every
// derived event SPEC §2 names points at the event it names
// (checkDerivedCauses).
func CheckCausationEarlier(j *Journal) Finding {
	var v violations
	seen := map[string]*Event{}
	evs := j.Events()
	caused := 0
	for _, e := range evs {
		if e.CausationID != nil {
			caused++
			c := *e.CausationID
			if cause, ok := seen[c]; !ok {
				v.add("seq %d (%s %s): causation_id %q names no earlier event", e.Seq, e.EventType, e.EventID, c)
			} else {
				sameSubject(&v, e, cause)
			}
		}
		seen[e.EventID] = e
	}
	d := checkDerivedCauses(&v, evs, seen)
	detail := fmt.Sprintf("%d events carry a causation_id; SPEC §2 rules judged on %d approval executions, %d synergie rewards, %d mission refunds",
		caused, d.executions, d.rewards, d.refunds)
	if j.AfterSeq > 0 {
		detail += "; suffix audit: causes before the suffix count as dangling"
	}
	return v.finding(CheckCausation, countMeasured(&v, caused+d.uncaused, "caused or derived events"), "0", detail)
}

// subject is what an event is about, read from its payload.
type subject struct {
	RequestID       string `json:"request_id"`
	MissionID       string `json:"mission_id"`
	CollaborationID string `json:"collaboration_id"`
	AgentID         string `json:"agent_id"`
	ActionType      string `json:"action_type"`
	AmountMilli     int64  `json:"amount_milli"`
}

func subjectOf(e *Event) subject {
	var s subject
	_ = json.Unmarshal(e.Payload, &s) // a payload that does not decode is B10's finding
	return s
}

// sameSubject: an event and its cause never name different requests,
// missions or collaborations (an event about mission m2 caused by one
// about m1 is caused by the wrong event, whatever its kind). Pools and
// agents may differ: a transfer or a close moves between two.
func sameSubject(v *violations, e, cause *Event) {
	se, sc := subjectOf(e), subjectOf(cause)
	for _, f := range []struct{ name, a, b string }{
		{"request_id", se.RequestID, sc.RequestID}, {"mission_id", se.MissionID, sc.MissionID},
		{"collaboration_id", se.CollaborationID, sc.CollaborationID},
	} {
		if f.a != "" && f.b != "" && f.a != f.b {
			v.add("seq %d (%s %s, %s %q): caused by seq %d (%s %s) of %s %q", e.Seq, e.EventType, e.EventID, f.name, f.a,
				cause.Seq, cause.EventType, cause.EventID, f.name, f.b)
		}
	}
}

// derivedCounts counts the derived events each SPEC §2 rule judged.
type derivedCounts struct {
	executions, rewards, refunds int
	uncaused                     int // derived events without a causation_id (judged, not counted above as caused)
}

// checkDerivedCauses judges SPEC §2's causation rules by the kind and
// identity of the cause, on any backend's journal:
//
//   - an approval's executed credit.allocated (add) or credit.withdrawn
//     (withdraw) points at the approval.approved event of its request (same
//     agent and amount);
//   - a synergie.reward_granted or reward_capped points at the
//     synergie.collaboration_recorded of its collaboration_id;
//   - a mission refund (credit.refunded with a mission_id) points at a
//     credit.consumed of the same mission and agent — the mission's
//     consumption, not its end.
//
// A derived event is told by its cause or, where it names none, by its
// command: an execution shares the correlation_id of an approval.approved
// (the first credit event of the request's kind, agent and amount after
// it), a mission's end refund the correlation_id of the mission's end. A
// derived event without a cause breaks the rule too (SPEC §2: the causation
// check is never vacuous).
func checkDerivedCauses(v *violations, evs []*Event, byID map[string]*Event) derivedCounts {
	var d derivedCounts
	requests := map[string]subject{}    // request_id → approval.requested payload
	approvedIn := map[string][]*Event{} // correlation_id → approval.approved not yet matched to an execution
	endsIn := map[string]bool{}         // correlation_id + "\x00" + mission_id of a mission's end
	executes := map[string]string{"add": "credit.allocated", "withdraw": "credit.withdrawn"}
	causeOf := func(e *Event) *Event {
		if e.CausationID == nil {
			return nil
		}
		return byID[*e.CausationID] // nil when dangling: reported already
	}
	where := func(e *Event) string { return fmt.Sprintf("seq %d (%s %s)", e.Seq, e.EventType, e.EventID) }
	for _, e := range evs {
		s := subjectOf(e)
		switch e.EventType {
		case "approval.requested":
			requests[s.RequestID] = s
		case "approval.approved":
			approvedIn[e.CorrelationID] = append(approvedIn[e.CorrelationID], e)
		case "mission.completed", "mission.failed", "mission.cancelled":
			endsIn[e.CorrelationID+"\x00"+s.MissionID] = true
		case "synergie.reward_granted", "synergie.reward_capped":
			d.rewards++
			cause := causeOf(e)
			switch {
			case e.CausationID == nil:
				d.uncaused++
				v.add("%s: a reward without causation_id; SPEC §2: it points at its collaboration event", where(e))
			case cause == nil:
			case cause.EventType != "synergie.collaboration_recorded" || subjectOf(cause).CollaborationID != s.CollaborationID:
				v.add("%s of collaboration %q: caused by %s, want the synergie.collaboration_recorded of %q",
					where(e), s.CollaborationID, where(cause), s.CollaborationID)
			}
		case "credit.refunded":
			if s.MissionID == "" || (e.CausationID == nil && !endsIn[e.CorrelationID+"\x00"+s.MissionID]) {
				continue // not a mission's refund: a client's refund names no cause
			}
			d.refunds++
			cause := causeOf(e)
			switch {
			case e.CausationID == nil:
				d.uncaused++
				v.add("%s: mission %q's end refund without causation_id; SPEC §2: it points at the mission's consumption", where(e), s.MissionID)
			case cause == nil:
			case cause.EventType != "credit.consumed" || subjectOf(cause).MissionID != s.MissionID || subjectOf(cause).AgentID != s.AgentID:
				v.add("%s of mission %q, agent %q: caused by %s, want a credit.consumed of that mission and agent (the mission's consumption)",
					where(e), s.MissionID, s.AgentID, where(cause))
			}
		}
		if e.EventType != "credit.allocated" && e.EventType != "credit.withdrawn" {
			continue
		}
		// An execution: caused by an approval event, or the first credit
		// event of an approved request's kind, agent and amount in the
		// approval's command.
		cause := causeOf(e)
		execution := cause != nil && strings.HasPrefix(cause.EventType, "approval.")
		if execution {
			// Its approval is matched: a later credit event of the same
			// command is no second execution by correlation.
			pending := approvedIn[cause.CorrelationID]
			for i, ap := range pending {
				if ap == cause {
					approvedIn[cause.CorrelationID] = append(pending[:i:i], pending[i+1:]...)
					break
				}
			}
		} else {
			pending := approvedIn[e.CorrelationID]
			for i, ap := range pending {
				r := requests[subjectOf(ap).RequestID]
				if executes[r.ActionType] == e.EventType && r.AgentID == s.AgentID && sameMagnitude(r.AmountMilli, s.AmountMilli) {
					execution = true
					approvedIn[e.CorrelationID] = append(pending[:i:i], pending[i+1:]...)
					break
				}
			}
		}
		if !execution {
			continue
		}
		d.executions++
		switch {
		case e.CausationID == nil:
			d.uncaused++
			v.add("%s: an approval's execution without causation_id; SPEC §2: it points at the approval.approved event", where(e))
		case cause == nil:
		case cause.EventType != "approval.approved":
			v.add("%s: an approval's execution caused by %s, want its request's approval.approved", where(e), where(cause))
		default:
			rid := subjectOf(cause).RequestID
			r, ok := requests[rid]
			if !ok || executes[r.ActionType] != e.EventType || r.AgentID != s.AgentID || !sameMagnitude(r.AmountMilli, s.AmountMilli) {
				v.add("%s (agent %q, %d milli): caused by the approval of request %q (%s %d milli for %q), not its own request's",
					where(e), s.AgentID, s.AmountMilli, rid, r.ActionType, r.AmountMilli, r.AgentID)
			}
		}
	}
	return d
}

// sameMagnitude compares a request's amount with its execution's: SPEC §2
// fixes the unit (milli-credits), not the sign a debit is journaled with.
func sameMagnitude(a, b int64) bool { return a == b || a == -b }

// uuidV4 is SPEC §2's form of an event_id: a version 4 (random) UUID of
// the RFC 9562 variant, in its 8-4-4-4-12 hex spelling.
var uuidV4 = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// CheckEventIDsUnique: every event_id is a UUID v4 (SPEC §2) and none
// appears twice.
func CheckEventIDsUnique(j *Journal) Finding {
	var v violations
	seen := map[string]uint64{}
	evs := j.Events()
	for _, e := range evs {
		if !uuidV4.MatchString(e.EventID) {
			v.add("seq %d (%s): event_id %q is not a UUID v4 (SPEC §2: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx)", e.Seq, e.EventType, e.EventID)
			continue
		}
		if s, ok := seen[e.EventID]; ok {
			v.add("event_id %s at seq %d and seq %d", e.EventID, s, e.Seq)
			continue
		}
		seen[e.EventID] = e.Seq
	}
	return v.finding(CheckEventIDs, countMeasured(&v, len(evs), "events"), "0", "")
}

// CheckKeysUnique: every event carries an idempotency key and no key appears
// twice (derived events of one command carry "<key>#<n>").
func CheckKeysUnique(j *Journal) Finding {
	var v violations
	seen := map[string]uint64{}
	evs := j.Events()
	for _, e := range evs {
		if e.IdempotencyKey == "" {
			v.add("seq %d (%s %s): empty idempotency_key", e.Seq, e.EventType, e.EventID)
			continue
		}
		if s, ok := seen[e.IdempotencyKey]; ok {
			v.add("idempotency key %q at seq %d and seq %d (duplicate effect)", e.IdempotencyKey, s, e.Seq)
			continue
		}
		seen[e.IdempotencyKey] = e.Seq
	}
	return v.finding(CheckKeysOnce, countMeasured(&v, len(evs), "events"), "0", "")
}

// txGroups splits the valid events into commands: a primary event
// followed by its derived events. member[i] is the index of the primary of
// event i (i itself for primaries).
//
// Our engine marks a command of N events with tx = N on its first event
// and keys "<key>#1".."<key>#N-1" on the rest. SPEC §2 fixes neither, so a
// journal with no tx > 1 anywhere is grouped by its keys alone (byKeys): an
// event whose key is the open command's key, one separator of
// derivedSeparators and its index n = 1, 2, …, with the same
// correlation_id, is that command's n-th event. Such a journal's server
// keys are the backend's own too (foreignKeys).
type txGroups struct {
	evs     []*Event
	primary []int
	v       violations
	byKeys  bool
	// foreignKeys: no tx marks and no key of our engine's server form
	// ("srv-<event_id>"): a command under a key no client sent is taken
	// as server-keyed, whatever its form.
	foreignKeys bool
}

// derivedSeparators may join a command's key and an event's index.
const derivedSeparators = "#~:./|"

// derivedKey reports whether key is base, one separator and n.
func derivedKey(base, key string, n int) bool {
	return len(key) > len(base)+1 && strings.HasPrefix(key, base) && strings.IndexByte(derivedSeparators, key[len(base)]) >= 0 &&
		key[len(base)+1:] == strconv.Itoa(n)
}

func groupTx(evs []*Event, ours bool) *txGroups {
	g := &txGroups{evs: evs, primary: make([]int, len(evs)), byKeys: !ours, foreignKeys: !ours}
	for _, e := range evs {
		if e.Tx > 1 {
			g.byKeys, g.foreignKeys = false, false
		}
		if isServerKey(e) {
			g.foreignKeys = false
		}
	}
	if g.byKeys {
		cur, n := -1, 0
		for i, e := range evs {
			if cur >= 0 && e.CorrelationID == evs[cur].CorrelationID && derivedKey(evs[cur].IdempotencyKey, e.IdempotencyKey, n) {
				g.primary[i] = cur
				n++
				continue
			}
			g.primary[i], cur, n = i, i, 1
		}
		return g
	}
	cur, left := -1, 0
	for i, e := range evs {
		if left > 0 {
			p := evs[cur]
			n := p.Tx - left
			g.primary[i] = cur
			if want := fmt.Sprintf("%s#%d", p.IdempotencyKey, n); e.IdempotencyKey != want {
				g.v.add("seq %d: event %d of the command at seq %d has key %q, want %q", e.Seq, n+1, p.Seq, e.IdempotencyKey, want)
			}
			if e.CorrelationID != p.CorrelationID {
				g.v.add("seq %d: correlation_id %q differs from its command's (seq %d) %q", e.Seq, e.CorrelationID, p.Seq, p.CorrelationID)
			}
			if e.Tx != 0 {
				g.v.add("seq %d: derived event carries tx=%d", e.Seq, e.Tx)
			}
			left--
			continue
		}
		g.primary[i] = i
		switch {
		case e.Tx < 0:
			g.v.add("seq %d: tx=%d", e.Seq, e.Tx)
		case e.Tx > 1:
			cur, left = i, e.Tx-1
		}
	}
	if left > 0 {
		p := evs[cur]
		g.v.add("command at seq %d declares tx=%d but only %d events follow (torn transaction)", p.Seq, p.Tx, p.Tx-1-left)
	}
	return g
}

// CheckTxComplete: a command of N events writes tx=N on its first event and
// its N-1 derived events follow immediately with keys "<key>#1".."<key>#N-1"
// and the same correlation_id.
func CheckTxComplete(j *Journal) Finding {
	g := groupTx(j.Events(), j.Ours)
	n := 0
	for _, e := range g.evs {
		if e.Tx > 1 {
			n++
		}
	}
	return g.v.finding(CheckTx, countMeasured(&g.v, n, "multi-event commands"), "0", "")
}

func isServerKey(e *Event) bool { return e.IdempotencyKey == "srv-"+e.EventID }

func isSystemActor(e *Event) bool { return strings.HasPrefix(e.ActorID, "system:") }

// CheckHistoryExact: every acknowledged op's key is the key of exactly one
// command in the journal, an indeterminate op's of at most one, a refused
// op's of none; and every command in the journal was asked for by a client
// (or is a system command: server key and actor "system:*"). Reads are not
// audited here.
//
// One documented exception: a decision that finds its request overdue
// writes approval.expired under its own key and answers 409; a refused op's
// key may therefore name exactly one approval.expired command.
func CheckHistoryExact(j *Journal, ops []Op, opt HistoryOptions) Finding {
	f, _ := historyExact(j, ops, opt, CheckHistory)
	return f
}

// historyExact is CheckHistoryExact under a given check name; it also
// returns how many keys were acknowledged with a write.
func historyExact(j *Journal, ops []Op, opt HistoryOptions, name string) (Finding, int) {
	var v violations
	g := groupTx(j.Events(), j.Ours)
	byKey := map[string][]*Event{} // primaries by key
	byID := map[string]int{}       // event index by id
	for i, e := range g.evs {
		byID[e.EventID] = i
		if g.primary[i] == i {
			byKey[e.IdempotencyKey] = append(byKey[e.IdempotencyKey], e)
		}
	}
	type keyState struct {
		ackWrite, ackNoWrite, maybe bool
		first                       Op
	}
	keys := map[string]*keyState{}
	claimed := map[string]bool{} // event ids of keyless acknowledged ops
	keyless, mutations := 0, 0
	for _, o := range ops {
		if !o.Kind.Mutation() {
			continue
		}
		mutations++
		if o.Key != "" {
			st := keys[o.Key]
			if st == nil {
				st = &keyState{first: o}
				keys[o.Key] = st
			}
			switch {
			case o.Outcome.Acked() && noWrite(o):
				st.ackNoWrite = true
			case o.Outcome.Acked():
				st.ackWrite = true
			case indeterminate(o):
				st.maybe = true
			}
			continue
		}
		if o.EventID == "" {
			if o.Outcome.Acked() || indeterminate(o) {
				keyless++
			}
			continue
		}
		keyless++
		i, ok := byID[o.EventID]
		switch {
		case !o.Outcome.Acked():
			if ok {
				v.add("op %d (%s, %s): refused but its event %s is in the journal", o.ID, o.Kind, o.Outcome, o.EventID)
			}
		case !ok:
			v.add("op %d (%s): acknowledged event %s is not in the journal", o.ID, o.Kind, o.EventID)
		case g.primary[i] != i && g.byKeys:
			claimed[g.evs[g.primary[i]].EventID] = true // another backend may answer any event of the command
		case g.primary[i] != i:
			v.add("op %d (%s): acknowledged event %s is a derived event, not a command's first", o.ID, o.Kind, o.EventID)
		default:
			claimed[o.EventID] = true
		}
	}
	acked := 0
	for key, st := range keys {
		n := len(byKey[key])
		first := st.first
		switch {
		case st.ackWrite:
			acked++
			if n != 1 {
				v.add("key %q (op %d, %s): acknowledged, found %d times in the journal, want exactly 1", key, first.ID, first.Kind, n)
			}
		case st.ackNoWrite && !st.maybe:
			if n != 0 {
				v.add("key %q (op %d, %s): acknowledged as writing nothing, found %d times in the journal", key, first.ID, first.Kind, n)
			}
		case st.maybe || st.ackNoWrite:
			if n > 1 {
				v.add("key %q (op %d, %s): outcome unknown, found %d times in the journal, want at most 1", key, first.ID, first.Kind, n)
			}
		default: // refused only
			if n == 1 && byKey[key][0].EventType == "approval.expired" {
				continue
			}
			if n != 0 {
				v.add("key %q (op %d, %s, status %d): refused, yet found %d times in the journal", key, first.ID, first.Kind, first.Status, n)
			}
		}
	}
	unrequested := 0
	for key, prims := range byKey {
		if _, ok := keys[key]; ok {
			continue
		}
		for _, e := range prims {
			serverKey := isServerKey(e) || g.foreignKeys
			switch {
			case serverKey && (isSystemActor(e) || claimed[e.EventID] || opt.KeylessSent):
			case serverKey:
				unrequested++
				v.add("seq %d (%s %s, actor %q): server-keyed command no client op claims (no keyless requests declared)",
					e.Seq, e.EventType, e.EventID, e.ActorID)
			default:
				unrequested++
				v.add("seq %d (%s %s): key %q was sent by no client op", e.Seq, e.EventType, e.EventID, key)
			}
		}
	}
	detail := fmt.Sprintf("%d keyed mutations (%d keys acknowledged with a write), %d keyless, %d unrequested commands; keyless requests declared: %v",
		len(keys), acked, keyless, unrequested, opt.KeylessSent)
	return v.finding(name, countMeasured(&v, mutations, "mutations"), "0", detail), acked
}

// CheckLoadHistory is gate E's audit of its whole load history.
const CheckLoadHistory = "E every acknowledged mutation of the load history journaled exactly once"

// LoadHistory audits a load run's whole history against the journal with
// gate A's two history rules: every acknowledged mutation journaled exactly
// once, refused ones never, unknown ones at most once, nothing unrequested
// (CheckHistoryExact) and every retry or duplicate answered with the
// original event (CheckRetriesOriginal). Measured: the acknowledged
// mutations checked.
func LoadHistory(j *Journal, ops []Op, opt HistoryOptions) Finding {
	exact, acked := historyExact(j, ops, opt, CheckLoadHistory)
	retries := CheckRetriesOriginal(j, ops)
	f := exact
	f.OK = exact.OK && retries.OK
	f.ViolationCount = exact.ViolationCount + retries.ViolationCount
	f.Violations = append(append([]string(nil), exact.Violations...), retries.Violations...)
	if len(f.Violations) > MaxSamples {
		f.Violations = f.Violations[:MaxSamples]
	}
	f.Measured = fmt.Sprintf("%d acknowledged mutations checked, %d violations", acked, f.ViolationCount)
	f.Threshold = "0 violations"
	f.Detail = exact.Detail + "; " + retries.Measured
	return f
}

// CheckRetriesOriginal judges every copy sent under one idempotency key
// (sequential retries and concurrent duplicates alike) by one rule, the
// SPEC's: a key is executed at most once and every other answer is the
// original result.
//
//   - every acknowledgement of the key names the same event, the first
//     event of the command the journal holds under the key;
//   - at most one acknowledgement comes without Idempotent-Replayed: true
//     (the one that executed);
//   - a copy sent after an acknowledgement of the key returned (call time
//     after that return: a sequential retry) must be acknowledged with
//     Idempotent-Replayed: true — neither refused nor executed again;
//   - a refusal of the key is consistent only if it returned before every
//     acknowledgement of the key was sent (it applied nothing and a later
//     copy executed).
//
// Unknown outcomes (timeouts, 5xx) are not judged. No-write repeats are
// left to CheckHistoryExact.
func CheckRetriesOriginal(j *Journal, ops []Op) Finding {
	var v violations
	g := groupTx(j.Events(), j.Ours)
	byKey := map[string]*Event{}
	// ofCommand: the ids of every event of a command, by the command's
	// key. Our engine answers a command's first event; a journal grouped
	// by its keys alone (another backend) may answer any of them (SPEC §3
	// asks the same event_id on a replay, not which one).
	ofCommand := map[string]map[string]bool{}
	for i, e := range g.evs {
		if g.primary[i] == i {
			if _, dup := byKey[e.IdempotencyKey]; !dup {
				byKey[e.IdempotencyKey] = e
			}
		}
		if g.byKeys {
			k := g.evs[g.primary[i]].IdempotencyKey
			if ofCommand[k] == nil {
				ofCommand[k] = map[string]bool{}
			}
			ofCommand[k][e.EventID] = true
		}
	}
	perKey := map[string][]Op{}
	copies := 0
	for _, o := range ops {
		if !o.Kind.Mutation() || o.Key == "" || noWrite(o) {
			continue
		}
		if o.Role == history.Conflicting {
			// Not a copy: a different request under a used key.
			if !indeterminate(o) && (o.Outcome != history.Refused || o.Code != "idempotency_key_conflict") {
				v.add("key %q: op %d sent a different request under the key and got %d %s %s, want 409 idempotency_key_conflict",
					o.Key, o.ID, o.Status, o.Outcome, o.Code)
			}
			continue
		}
		if o.Role == history.Retry || o.Role == history.ConcurrentDuplicate {
			copies++
		}
		perKey[o.Key] = append(perKey[o.Key], o)
	}
	for key, kops := range perKey {
		var event string
		executed := 0
		firstAckReturn, firstAckCall := int64(-1), int64(-1)
		for _, o := range kops {
			if !o.Outcome.Acked() {
				continue
			}
			if firstAckReturn < 0 || o.ReturnNs < firstAckReturn {
				firstAckReturn = o.ReturnNs
			}
			if firstAckCall < 0 || o.CallNs < firstAckCall {
				firstAckCall = o.CallNs
			}
			if o.Outcome == history.OK {
				executed++
			}
			if o.EventID == "" {
				continue
			}
			if e, ok := byKey[key]; ok && e.EventID != o.EventID && !ofCommand[key][o.EventID] {
				v.add("op %d (%s): acknowledged event %s, but the journal holds %s under key %q", o.ID, o.Kind, o.EventID, e.EventID, key)
			}
			if event != "" && event != o.EventID {
				v.add("key %q: acknowledged with event %s and, by op %d (%s), with event %s", key, event, o.ID, o.Role, o.EventID)
			}
			event = o.EventID
		}
		if executed > 1 {
			v.add("key %q: %d acknowledgements without Idempotent-Replayed (executed %d times; at most one may execute)", key, executed, executed)
		}
		if firstAckReturn < 0 {
			continue
		}
		for _, o := range kops {
			switch {
			case indeterminate(o):
			case o.Outcome == history.Refused && o.ReturnNs > firstAckCall:
				v.add("key %q: op %d (%s) refused (%d %s) although the key was acknowledged (a retry must return the original result)",
					key, o.ID, o.Role, o.Status, o.Code)
			case o.Outcome == history.OK && o.CallNs > firstAckReturn && executed <= 1:
				v.add("key %q: op %d (%s) sent after the key's acknowledgement returned was answered without Idempotent-Replayed: true",
					key, o.ID, o.Role)
			}
		}
	}
	return v.finding(CheckRetries, countMeasured(&v, len(perKey), "keys"), "0",
		fmt.Sprintf("%d retries and concurrent duplicates; rule: one execution per key, every other answer the original event with Idempotent-Replayed: true", copies))
}
