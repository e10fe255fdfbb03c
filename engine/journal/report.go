package journal

import "fmt"

// RecoveryReport says what Open found and did. Offsets and line numbers
// refer to the file as it was before recovery changed it.
type RecoveryReport struct {
	Path    string `json:"path"`
	Policy  Policy `json:"policy"`
	Events  uint64 `json:"events"`   // events replayed through apply
	LastSeq uint64 `json:"last_seq"` // seq of the last replayed event, 0 if none
	// TornTail is the unacknowledged tail that was cut off, nil if none.
	TornTail *TornTail `json:"torn_tail"`
	// Quarantined lists mid-file lines moved to QuarantineFile.
	Quarantined    []BadLine `json:"quarantined"`
	QuarantineFile string    `json:"quarantine_file,omitempty"`
	// Gaps lists jumps forward in the seq of the replayed events, whatever
	// their cause: lines physically destroyed, or quarantined.
	Gaps []Gap `json:"gaps"`
	// Dependents lists undamaged events left out of the replay because they
	// refer to an entity (agent, approval, pool, mission) whose first event
	// was lost: quarantined now, in an earlier recovery, or destroyed (a
	// gap). They stay in the journal unchanged, are copied into
	// QuarantineFile with their reason, and are reported on every start
	// until the lost line is restored.
	Dependents []Dependent `json:"dependents"`
	// DependentsOmitted counts dependents beyond maxReportedDependents:
	// counted per entity in Lost and kept in QuarantineFile, not listed here.
	DependentsOmitted int `json:"dependents_omitted,omitempty"`
	// Lost lists those entities, each with what its first event was lost to.
	Lost  []LostEntity `json:"lost_entities"`
	Clean bool         `json:"clean"` // no torn tail, nothing quarantined, no gaps, no dependents
}

// DependentCount is how many events recovery left out of the replay,
// listed or not.
func (r RecoveryReport) DependentCount() int { return len(r.Dependents) + r.DependentsOmitted }

// Dependent is one event left out of the replay because an entity it
// refers to does not exist: its first line was lost.
type Dependent struct {
	Line      int    `json:"line"` // 1-based line number in the file as recovery found it
	Offset    int64  `json:"offset"`
	Seq       uint64 `json:"seq"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Kind      string `json:"entity_kind"` // agent | approval | pool | mission
	Entity    string `json:"entity_id"`
	Reason    string `json:"reason"` // names the lost line or gap it depended on
}

// LostEntity is an entity whose first event was lost, so the events that
// depend on it were left out of the replay.
type LostEntity struct {
	Kind       string `json:"entity_kind"`
	ID         string `json:"entity_id"`
	LostIn     string `json:"lost_in"` // the quarantined line or gap its first event was lost in
	Dependents int    `json:"dependents"`
}

// TornTail is the cut-off end of the file.
type TornTail struct {
	Offset  int64  `json:"offset"` // where the file was cut
	Bytes   int    `json:"bytes"`  // bytes cut, all kept in Sidecar
	Lines   int    `json:"lines"`  // lines cut, the last possibly partial
	Sidecar string `json:"sidecar"`
	Reason  string `json:"reason"`
}

// BadLine is one quarantined line.
type BadLine struct {
	Line   int    `json:"line"` // 1-based line number in the original file
	Offset int64  `json:"offset"`
	Reason string `json:"reason"`
	Seq    uint64 `json:"seq"` // 0 if unknown (the line did not verify)
}

// Gap is a jump forward in seq: events AfterSeq+1 … NextSeq-1 are missing.
type Gap struct {
	AfterSeq uint64 `json:"after_seq"`
	NextSeq  uint64 `json:"next_seq"`
}

// CorruptionError is returned by Open under PolicyStrict for the first
// mid-file corruption (bad line, repeated seq or gap); nothing was changed.
type CorruptionError struct {
	File   string
	Line   int // 1-based
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("journal: %s:%d: corrupt: %s (policy strict refuses to start)", e.File, e.Line, e.Reason)
}

// clean reports whether recovery found nothing to repair: no torn tail, no
// quarantined line, no seq gap, no event left out for its lost entity.
func (r *RecoveryReport) clean() bool {
	return r.TornTail == nil && len(r.Quarantined) == 0 && len(r.Gaps) == 0 && len(r.Dependents) == 0
}
