package journal_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/creditgate/creditgate/chaos/faultfs"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

// missingAgent is what a fold returns for an event about an agent no event
// registered; like projection.MissingEntityError it names the dependency.
type missingAgent struct{ id string }

func (m *missingAgent) Error() string                       { return "unknown agent " + m.id }
func (m *missingAgent) MissingDependency() (string, string) { return "agent", m.id }

// agentFold is a tiny fold: agent.registered creates an agent, every other
// event needs its agent. It records the seqs it applied.
type agentFold struct {
	agents  map[string]bool
	applied []uint64
}

func (f *agentFold) apply(e *event.Envelope) error {
	var p struct {
		AgentID string `json:"agent_id"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return err
	}
	if e.EventType == event.AgentRegistered {
		f.agents[p.AgentID] = true
	} else if !f.agents[p.AgentID] {
		return fmt.Errorf("fold seq %d: %w", e.Seq, &missingAgent{p.AgentID})
	}
	f.applied = append(f.applied, e.Seq)
	return nil
}

// agentLine encodes one event about agent; reg makes it the registration.
func agentLine(tb testing.TB, seq uint64, agent string, reg bool, tx int) []byte {
	tb.Helper()
	e := envelope(seq, tx)
	e.Payload = json.RawMessage(fmt.Sprintf(`{"agent_id":%q,"amount_milli":1000,"balance_after_milli":0,"reason":"r"}`, agent))
	if reg {
		e.EventType = event.AgentRegistered
		e.Payload = json.RawMessage(fmt.Sprintf(`{"agent_id":%q,"skill_level":0.5}`, agent))
	}
	b, err := event.Encode(e)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// dependentsJournal: agents a (line 1), b (line 2), c (line 5, its
// registration opening a 2-event command with line 6); events about each
// after. Line i holds seq i.
func dependentsJournal(tb testing.TB) [][]byte {
	return [][]byte{
		agentLine(tb, 1, "a", true, 0),
		agentLine(tb, 2, "b", true, 0),
		agentLine(tb, 3, "a", false, 0),
		agentLine(tb, 4, "b", false, 0),
		agentLine(tb, 5, "c", true, 2),
		agentLine(tb, 6, "c", false, 0),
		agentLine(tb, 7, "a", false, 0),
		agentLine(tb, 8, "c", false, 0),
		agentLine(tb, 9, "b", false, 0),
		agentLine(tb, 10, "a", false, 0),
	}
}

func TestRecoveryLeavesOutTheDependentsOfALostFirstLineAndReportsThem(t *testing.T) {
	cases := []struct {
		name     string
		damage   func(ls [][]byte) [][]byte
		lost     string   // agent whose registration is lost
		live     string   // an agent that survives
		kept     []uint64 // replayed
		deps     []uint64 // left out, still in the file
		lostIn   string   // what the reason must name
		qLine    int      // quarantined line, 0 = none
		strictAt int      // line strict refuses at
	}{
		{
			name:   "registration on the first line of the file, bit flip",
			damage: func(ls [][]byte) [][]byte { ls[0] = flipMiddle(ls[0]); return ls },
			lost:   "a", live: "b", kept: []uint64{2, 4, 5, 6, 8, 9}, deps: []uint64{3, 7, 10},
			lostIn: "quarantined line 1", qLine: 1, strictAt: 1,
		},
		{
			name:   "registration opening a multi-event command, bit flip",
			damage: func(ls [][]byte) [][]byte { ls[4] = flipMiddle(ls[4]); return ls },
			lost:   "c", live: "b", kept: []uint64{1, 2, 3, 4, 7, 9, 10}, deps: []uint64{6, 8},
			lostIn: "quarantined line 5", qLine: 5, strictAt: 5,
		},
		{
			name:   "registration line physically destroyed (seq gap)",
			damage: func(ls [][]byte) [][]byte { return slices.Delete(ls, 1, 2) },
			lost:   "b", live: "a", kept: []uint64{1, 3, 5, 6, 7, 8, 10}, deps: []uint64{4, 9},
			lostIn: "seq gap 1→3", strictAt: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/strict refuses naming the line", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credits.jsonl")
			content := bytes.Join(tc.damage(dependentsJournal(t)), nil)
			writeFile(t, path, content)
			cfg := baseConfig(t, path)
			cfg.Recovery = journal.PolicyStrict
			f := &agentFold{agents: map[string]bool{}}
			_, _, err := journal.Open(cfg, f.apply)
			var ce *journal.CorruptionError
			if !errors.As(err, &ce) || ce.Line != tc.strictAt || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d", path, tc.strictAt)) {
				t.Fatalf("strict Open = %v, want a CorruptionError naming %s:%d", err, path, tc.strictAt)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
				t.Fatal("strict refusal changed the journal")
			}
		})
		t.Run(tc.name+"/quarantine starts without them and reports each", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credits.jsonl")
			writeFile(t, path, bytes.Join(tc.damage(dependentsJournal(t)), nil))
			cfg := baseConfig(t, path)
			f := &agentFold{agents: map[string]bool{}}
			j, rep, err := journal.Open(cfg, f.apply)
			if err != nil {
				t.Fatalf("Open must start degraded, not refuse: %v", err)
			}
			if !slices.Equal(f.applied, tc.kept) {
				t.Errorf("replayed %v, want %v", f.applied, tc.kept)
			}
			assertDependents(t, rep, tc.lost, tc.deps, tc.lostIn)
			if tc.qLine > 0 && (len(rep.Quarantined) != 1 || rep.Quarantined[0].Line != tc.qLine) {
				t.Errorf("quarantined %+v, want line %d", rep.Quarantined, tc.qLine)
			}
			if rep.Clean || rep.LastSeq != 10 {
				t.Errorf("report Clean=%v LastSeq=%d, want false and 10 (seqs of dependents are never reused)", rep.Clean, rep.LastSeq)
			}
			// Dependents are undamaged acknowledged events: they stay in the
			// journal, and the quarantine file holds a copy with the reason.
			if got := fileSeqs(t, path); !slices.Equal(got, mergeSorted(tc.kept, tc.deps)) {
				t.Errorf("file holds %v, want kept and dependents %v", got, mergeSorted(tc.kept, tc.deps))
			}
			assertDependentEntries(t, path+".quarantine", tc.deps)

			// The next append takes the seq after the last dependent and
			// survives a reopen, which reports the same dependents again,
			// naming the line an earlier recovery quarantined.
			if err := j.Append(context.Background(), [][]byte{agentLine(t, 11, tc.live, false, 0)}); err != nil {
				t.Fatalf("append after recovery: %v", err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			f2 := &agentFold{agents: map[string]bool{}}
			j2, rep2, err := journal.Open(cfg, f2.apply)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer j2.Close()
			if want := append(slices.Clone(tc.kept), 11); !slices.Equal(f2.applied, want) {
				t.Errorf("reopen replayed %v, want %v", f2.applied, want)
			}
			again := tc.lostIn
			if tc.qLine > 0 {
				again = fmt.Sprintf("line %d quarantined by an earlier recovery", tc.qLine)
			}
			assertDependents(t, rep2, tc.lost, tc.deps, again)
			assertDependentEntries(t, path+".quarantine", tc.deps) // not copied twice
		})
	}
}

func TestAnEventAboutAnUnknownEntityWithNothingLostStillFailsOpen(t *testing.T) {
	// Nothing was damaged, so a dependency failure is a replay bug: hiding
	// it as a dependent would make recovery silent.
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	ls := dependentsJournal(t)
	ls[1] = agentLine(t, 2, "z", false, 0) // about z, never registered
	writeFile(t, path, bytes.Join(ls, nil))
	f := &agentFold{agents: map[string]bool{}}
	_, _, err := journal.Open(baseConfig(t, path), f.apply)
	var dep *missingAgent
	if !errors.As(err, &dep) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Open = %v, want the replay error for line 2", err)
	}
}

func assertDependents(t *testing.T, rep journal.RecoveryReport, lost string, deps []uint64, lostIn string) {
	t.Helper()
	var seqs []uint64
	for _, d := range rep.Dependents {
		seqs = append(seqs, d.Seq)
		if d.Kind != "agent" || d.Entity != lost || !strings.Contains(d.Reason, lostIn) || d.EventID == "" {
			t.Errorf("dependent %+v: want agent %q, reason naming %q", d, lost, lostIn)
		}
	}
	if !slices.Equal(seqs, deps) {
		t.Errorf("dependents %v, want %v", seqs, deps)
	}
	if len(rep.Lost) != 1 || rep.Lost[0].ID != lost || rep.Lost[0].Dependents != len(deps) || !strings.Contains(rep.Lost[0].LostIn, lostIn) {
		t.Errorf("lost entities %+v, want agent %q with %d dependents, lost in ~%q", rep.Lost, lost, len(deps), lostIn)
	}
}

func assertDependentEntries(t *testing.T, path string, deps []uint64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("quarantine file: %v", err)
	}
	defer f.Close()
	var seqs []uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Dependent bool   `json:"dependent"`
			Seq       uint64 `json:"seq"`
			Reason    string `json:"reason"`
			Raw       string `json:"raw"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("quarantine entry is not JSON: %v", err)
		}
		if !e.Dependent {
			continue
		}
		if ev, err := event.Decode([]byte(e.Raw)); err != nil || ev.Seq != e.Seq || e.Reason == "" {
			t.Errorf("dependent entry seq %d: raw does not verify as that event (%v) or no reason", e.Seq, err)
		}
		seqs = append(seqs, e.Seq)
	}
	if !slices.Equal(seqs, deps) {
		t.Errorf("quarantine file dependents %v, want each of %v exactly once", seqs, deps)
	}
}

func mergeSorted(a, b []uint64) []uint64 {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return out
}

// A restart on a still-full disk must not leave a partial sidecar or
// quarantine file, must leave the journal as it was, and must say why.
func TestRecoveryOnAFullDiskLeavesNoPartialFileAndSaysWhy(t *testing.T) {
	cases := []struct {
		name    string
		content func(tb testing.TB) []byte
		suffix  string // the recovery file whose write hits ENOSPC
		step    string
	}{
		{"torn tail sidecar", func(tb testing.TB) []byte {
			return append(bytes.Join(lines(tb, 1, 3), nil), "{torn"...)
		}, ".torn-20261127T010203Z.tmp", "keep the torn tail"},
		{"quarantine file", func(tb testing.TB) []byte {
			ls := lines(tb, 1, 5)
			ls[2] = flipMiddle(ls[2])
			return bytes.Join(ls, nil)
		}, ".quarantine.tmp", "write the quarantine file"},
	}
	for _, tc := range cases {
		for _, op := range []faultfs.Op{faultfs.OpWrite, faultfs.OpSync} {
			t.Run(fmt.Sprintf("%s/ENOSPC on %s", tc.name, op), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "credits.jsonl")
				content := tc.content(t)
				writeFile(t, path, content)
				cfg := baseConfig(t, path)
				cfg.FS = faultfs.New(nil, faultfs.OnPathSuffix(tc.suffix, faultfs.Always(op, syscall.ENOSPC)))
				_, _, err := journal.Open(cfg, func(*event.Envelope) error { return nil })
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Open = %v, want ENOSPC", err)
				}
				for _, s := range []string{"recovery of " + path + " stopped", tc.step, "disk full", "journal was left as it was"} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
					t.Error("the journal changed although recovery could not keep what it would cut")
				}
				entries, _ := os.ReadDir(dir)
				if len(entries) != 1 {
					var names []string
					for _, e := range entries {
						names = append(names, e.Name())
					}
					t.Errorf("recovery left files behind: %v", names)
				}
			})
		}
	}
}

func TestTheReportListsABoundedNumberOfDependentsAndTheQuarantineFileAll(t *testing.T) {
	const n = 10_005
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	ls := [][]byte{flipMiddle(agentLine(t, 1, "big", true, 0)), agentLine(t, 2, "other", true, 0)}
	for s := uint64(3); s < n+3; s++ {
		ls = append(ls, agentLine(t, s, "big", false, 0))
	}
	writeFile(t, path, bytes.Join(ls, nil))
	cfg := baseConfig(t, path)
	cfg.Logger = quiet()
	f := &agentFold{agents: map[string]bool{}}
	j, rep, err := journal.Open(cfg, f.apply)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if len(rep.Dependents) != 10_000 || rep.DependentsOmitted != n-10_000 || len(rep.Lost) != 1 || rep.Lost[0].Dependents != n {
		t.Fatalf("report lists %d dependents, omits %d, lost %+v; want 10000 listed, %d omitted, %d counted",
			len(rep.Dependents), rep.DependentsOmitted, rep.Lost, n-10_000, n)
	}
	want := make([]uint64, 0, n)
	for s := uint64(3); s < n+3; s++ {
		want = append(want, s)
	}
	assertDependentEntries(t, path+".quarantine", want)
}
