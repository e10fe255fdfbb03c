package specbackend

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// SPEC §3: a torn tail is an unacknowledged write, cut off into a sidecar.
// When the torn line ends a command of several events, the write is the
// command: it goes whole (every line of it in the sidecar), never applied
// in part — with h14-torn-command-kept-in-part only the torn line goes and
// the command's first event stays.
func TestATornCommandIsCutWhole(t *testing.T) {
	type outcome struct {
		lastSeq       int64
		sidecarLines  int
		agentExists   bool
		consumedKept  int64
		reportedLines string
	}
	run := func(t *testing.T, on bool) outcome {
		cfg := defectConfig(t, DefectH14TornCommandKeptInPart, on)
		raw := buildJournal(t, cfg, 3) // agent a (2 events), 3 consumes: seq 1..5
		e := openT(t, cfg)
		mustStatus(t, e.CreateAgent(Req{}, CreateAgentIn{AgentID: "b", SkillPPM: 500_000}), 200) // seq 6, 7: one command
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		whole, err := os.ReadFile(cfg.JournalPath)
		if err != nil {
			t.Fatal(err)
		}
		lastLine := bytes.LastIndexByte(whole[:len(whole)-1], '\n') + 1
		if err := os.WriteFile(cfg.JournalPath, whole[:lastLine+(len(whole)-lastLine)/2], 0o644); err != nil { // seq 7 torn
			t.Fatal(err)
		}
		e = openT(t, cfg)
		defer e.Close()
		var o outcome
		o.lastSeq = e.report.LastSeq
		o.agentExists = balanceOf(e, "b") >= 0
		o.consumedKept = balanceOf(e, "a")
		if e.report.TornTail != nil {
			o.reportedLines = e.report.TornTail.Reason
		}
		side, _ := filepath.Glob(cfg.JournalPath + ".torn-*")
		if len(side) == 1 {
			b, _ := os.ReadFile(side[0])
			o.sidecarLines = bytes.Count(b, []byte{'\n'}) + 1
			if !on && !bytes.HasPrefix(whole[len(raw):], b[:len(b)-1]) {
				t.Errorf("the sidecar %q is not the command cut from the journal", b)
			}
		}
		return o
	}
	if o := run(t, false); o.lastSeq != 5 || o.agentExists || o.sidecarLines != 2 || o.consumedKept != 97_000 {
		t.Errorf("without the defect: %+v; want last seq 5, agent b absent, both lines of its command in the sidecar, a's balance 97", o)
	}
	if o := run(t, true); o.lastSeq != 6 || !o.agentExists || o.sidecarLines != 1 {
		t.Errorf("with the defect: %+v; want last seq 6, agent b registered, one line in the sidecar", o)
	}
}
