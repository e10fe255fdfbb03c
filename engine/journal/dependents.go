package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/creditgate/creditgate/engine/event"
)

// maxReportedDependents bounds the dependents the report lists, so an
// agent with a million events cannot make the report (served by
// /journal/verify) as large as the journal.
const maxReportedDependents = 10_000

// dependencyError is what an apply error implements when the event refers
// to an entity no replayed event created (projection.MissingEntityError):
// recovery leaves such an event out when earlier lines were lost.
type dependencyError interface {
	MissingDependency() (kind, id string)
}

// lossSeen reports whether any line was lost before the current one: this
// recovery quarantined or found a gap, or an earlier one quarantined lines.
// Only then is an event about an unknown entity a dependent of lost data;
// otherwise it is a replay bug and Open fails.
func (s *scanner) lossSeen() bool {
	return len(s.bad) > 0 || len(s.rep.Gaps) > 0 || len(s.prior) > 0
}

// dependent records r as left out of the replay because entity kind/id is
// unknown, naming where its first line was lost.
func (s *scanner) dependent(r *lineRec, kind, id string) {
	key := kind + "\x00" + id
	if s.lostIndex == nil {
		s.lostIndex = map[string]int{}
	}
	i, seen := s.lostIndex[key]
	if !seen {
		i = len(s.rep.Lost)
		s.lostIndex[key] = i
		s.rep.Lost = append(s.rep.Lost, LostEntity{Kind: kind, ID: id, LostIn: s.lostIn(id)})
	}
	lost := &s.rep.Lost[i]
	lost.Dependents++
	reason := fmt.Sprintf("depends on %s %q, which no replayed event created: its first event was lost in %s", kind, id, lost.LostIn)
	if !seen || lost.Dependents <= 3 {
		s.log.Warn("journal recovery: leaving out an event whose entity was lost", "file", s.path, "line", r.no,
			"seq", r.env.Seq, "event_type", r.env.EventType, "reason", reason)
	}
	if len(s.rep.Dependents) < maxReportedDependents {
		s.rep.Dependents = append(s.rep.Dependents, Dependent{Line: r.no, Offset: r.off, Seq: r.env.Seq, EventID: r.env.EventID,
			EventType: r.env.EventType, Kind: kind, Entity: id, Reason: reason})
	} else {
		s.rep.DependentsOmitted++
	}
	if !s.recorded[r.env.EventID] { // each dependent is copied to the quarantine file once
		s.deps = append(s.deps, lineRec{off: r.off, no: r.no, raw: bytes.Clone(r.raw), env: event.Envelope{Seq: r.env.Seq, EventID: r.env.EventID}, why: reason})
	}
}

// lostIn names the lost line that most likely held entity id's first
// event: a line quarantined now or earlier that mentions the id, else the
// quarantined lines and gaps seen so far.
func (s *scanner) lostIn(id string) string {
	quoted, _ := json.Marshal(id)
	for _, b := range s.bad {
		if bytes.Contains(b.raw, quoted) {
			return fmt.Sprintf("quarantined line %d (%s)", b.no, b.why)
		}
	}
	for _, q := range s.prior {
		if !q.Dependent && (strings.Contains(q.Raw, string(quoted)) || bytes.Contains(q.RawBase64, quoted)) {
			return fmt.Sprintf("line %d quarantined by an earlier recovery (%s), kept in %s", q.Line, q.Reason, s.quarFile)
		}
	}
	var parts []string
	for _, b := range s.bad {
		parts = append(parts, fmt.Sprintf("quarantined line %d", b.no))
	}
	for _, g := range s.rep.Gaps {
		parts = append(parts, fmt.Sprintf("seq gap %d→%d", g.AfterSeq, g.NextSeq))
	}
	if slices.ContainsFunc(s.prior, func(q quarantineEntry) bool { return !q.Dependent }) {
		parts = append(parts, "lines quarantined earlier in "+s.quarFile)
	}
	if len(parts) > 4 {
		parts = append(parts[:4], fmt.Sprintf("… (%d places)", len(parts)))
	}
	return "one of: " + strings.Join(parts, ", ")
}
