package specbackend

import (
	"fmt"
	"sort"
	"strings"
)

// Defect names one deliberate bug that can be switched on in this backend, so the harness
// can be judged on whether it notices. Each defect is a realistic mistake an engineer
// could write, breaks exactly one promise of SPEC.md, and shows only at a boundary.
// With no defect switched on (the zero Defects), the backend behaves as documented in
// doc.go.
type Defect string

const (
	// DefectIdemConcurrentDuplicate: a keyed command is remembered under its
	// idempotency key only once it is durable ("only keys that made it to disk"), so
	// while the first request with a key waits for its group commit, a concurrent
	// duplicate with the same key is decided and journaled again. Sequential retries are
	// still replayed correctly. Breaks SPEC §3: concurrent duplicates (same key in flight
	// twice) resolve to one event.
	DefectIdemConcurrentDuplicate Defect = "idem-concurrent-duplicate"

	// DefectRecoverySilentDuplicate: at recovery, a line that is a byte-for-byte copy of
	// the line before it is taken for a writer double-write and dropped from the journal
	// quietly: not quarantined, not reported, health stays "ok", strict mode starts.
	// Breaks SPEC §3: a repeat in seq is a media fault that is quarantined and reported
	// (strict refuses to start); never silently skip.
	DefectRecoverySilentDuplicate Defect = "recovery-silent-duplicate"

	// DefectRecoveryNewlineTail: at recovery, a last line that lacks only its trailing
	// newline but passes its checksum is kept as a complete event instead of being cut
	// as a torn tail, and the missing newline is not restored: the next append is glued
	// onto that line (and is lost or quarantined at the next start). Breaks SPEC §3: a
	// torn tail (last line incomplete) is cut off into a sidecar and appends continue on
	// a clean line.
	DefectRecoveryNewlineTail Defect = "recovery-newline-tail"

	// DefectFourEyesFirstVote: the four-eyes check runs only for the decision that
	// completes a request, so the requester of a CRITICAL request may cast its first
	// approval vote; one other approver then completes it. MEDIUM and HIGH (one approver)
	// are unaffected. Breaks SPEC §5: the requester may not approve their own request
	// (CRITICAL: 2 distinct approvers other than the requester).
	DefectFourEyesFirstVote Defect = "four-eyes-first-vote"

	// DefectMissionFailZeroPercent: failing a mission with refund_percentage 0 is taken
	// as "no percentage given" and refunds the default share (100%). Breaks SPEC §5:
	// fail refunds consumed × refund percentage.
	DefectMissionFailZeroPercent Defect = "mission-fail-zero-percent"

	// DefectSynergieCapOvershoot: the per-agent-per-team cap is checked against what
	// the agent earned before the reward, not after, so the reward that crosses the cap
	// is paid in full (no reward_capped for it); only later rewards are capped. Breaks
	// SPEC §5: each agent earns at most synergie.cap per team.
	DefectSynergieCapOvershoot Defect = "synergie-cap-overshoot"

	// DefectAnomalyRatioExclusive: the ratio rule of the anomaly detector compares with
	// > instead of >=, so an amount of exactly 10× the agent's running mean (with a
	// constant norm, where the z-score rule cannot fire) is not flagged. Breaks SPEC §5 /
	// §8 scenario 5: a consume at 10× the norm (≥ 10× the running mean) is flagged.
	DefectAnomalyRatioExclusive Defect = "anomaly-ratio-exclusive"

	// DefectHistoryRingBoundary: when GET /history pages past the in-memory ledger ring
	// into the journal, the walk starts at the oldest in-memory entry itself instead of
	// its predecessor: that entry is listed twice and the oldest entry of the ledger is
	// missing. Only agents with more ledger entries than the ring (256) are affected.
	// Breaks SPEC §4/§6: the ledger lists every entry once, newest first, paged.
	DefectHistoryRingBoundary Defect = "history-ring-boundary"
)

// AllDefects lists every defect, in the order of the constants above.
var AllDefects = []Defect{
	DefectIdemConcurrentDuplicate,
	DefectRecoverySilentDuplicate,
	DefectRecoveryNewlineTail,
	DefectFourEyesFirstVote,
	DefectMissionFailZeroPercent,
	DefectSynergieCapOvershoot,
	DefectAnomalyRatioExclusive,
	DefectHistoryRingBoundary,
}

// Defects is a set of switched-on defects. The nil set switches none on.
type Defects map[Defect]bool

// Has reports whether d is switched on.
func (ds Defects) Has(d Defect) bool { return ds[d] }

// String lists the switched-on defects, comma-separated in AllDefects order ("none" when empty).
func (ds Defects) String() string {
	var names []string
	for _, d := range AllDefects {
		if ds[d] {
			names = append(names, string(d))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// ParseDefects parses a comma-separated list of defect names. "" or "none" switches
// none on, "all" switches every defect on. An unknown name is an error that lists the
// known ones.
func ParseDefects(s string) (Defects, error) {
	ds := Defects{}
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return ds, nil
	}
	known := map[Defect]bool{}
	for _, d := range AllDefects {
		known[d] = true
	}
	for _, part := range strings.Split(s, ",") {
		name := strings.TrimSpace(part)
		switch {
		case name == "" || name == "none":
			continue
		case name == "all":
			for _, d := range AllDefects {
				ds[d] = true
			}
		case known[Defect(name)]:
			ds[Defect(name)] = true
		default:
			names := make([]string, 0, len(AllDefects))
			for _, d := range AllDefects {
				names = append(names, string(d))
			}
			sort.Strings(names)
			return nil, fmt.Errorf("defects: unknown defect %q (known: %s; or none, all)", name, strings.Join(names, ", "))
		}
	}
	return ds, nil
}
