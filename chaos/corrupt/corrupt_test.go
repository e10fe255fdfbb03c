package corrupt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func journal(t *testing.T, n int) string {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "{\"seq\":%d,\"payload\":{\"agent_id\":\"a\",\"amount_milli\":%d}}\n", i, i*1000)
	}
	p := filepath.Join(t.TempDir(), "credits.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEveryCorruptorChangesTheFileAndDescribesTheDamage(t *testing.T) {
	for _, c := range Table {
		t.Run(c.Name, func(t *testing.T) {
			p := journal(t, 40)
			before, _ := os.ReadFile(p)
			d, err := ApplyFile(p, c, rand.New(rand.NewPCG(42, 1)))
			if err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(p)
			if bytes.Equal(before, after) {
				t.Fatal("file unchanged")
			}
			if d.Name != c.Name || d.Line < 1 || d.Expect == "" {
				t.Fatalf("incomplete damage report: %+v", d)
			}
			torn := slices.ContainsFunc(TornTails, func(x Corruptor) bool { return x.Name == c.Name })
			if torn != (d.Expect == ExpectTorn) {
				t.Fatalf("listed in TornTails: %v, damage %s", torn, d.Expect)
			}
			// A torn tail is the last line cut before its newline, or the
			// last line whole but failing its checksum (SPEC §3).
			if d.Expect == ExpectTorn && (d.TornSeq != 40 || bytes.HasSuffix(after, []byte("\n")) != (c.Name == "last line failing its checksum")) {
				t.Fatalf("torn tail must damage the last line (cut without its newline, or whole with a bad checksum): %+v", d)
			}
			if c.Name == "last line failing its checksum" && bytes.Count(after, []byte("\n")) != bytes.Count(before, []byte("\n")) {
				t.Fatal("the checksum-failing last line must keep every line break")
			}
			if c.Name == "last line without its newline" && !bytes.Equal(append(after, '\n'), before) {
				t.Fatal("only the last newline may go: every byte of the last event stays")
			}
			if d.Expect == ExpectGap && len(d.DestroyedSeqs) == 0 {
				t.Fatalf("truncation must name the destroyed seqs: %+v", d)
			}
		})
	}
}

func TestSameSeedSameDamage(t *testing.T) {
	for _, c := range Table {
		p1, p2 := journal(t, 40), journal(t, 40)
		d1, _ := ApplyFile(p1, c, rand.New(rand.NewPCG(7, 7)))
		d2, _ := ApplyFile(p2, c, rand.New(rand.NewPCG(7, 7)))
		b1, _ := os.ReadFile(p1)
		b2, _ := os.ReadFile(p2)
		if !bytes.Equal(b1, b2) || fmt.Sprint(d1) != fmt.Sprint(d2) {
			t.Fatalf("%s: same seed gave different damage", c.Name)
		}
	}
}

func TestFirstLineHitsTheEntitysBirthLineOnly(t *testing.T) {
	var b bytes.Buffer
	for i := 1; i <= 12; i++ {
		typ, agent := "credit.consumed", "a"
		switch i {
		case 3:
			typ, agent = "agent.registered", "b"
		case 7:
			typ = "agent.registered" // another agent's registration
		}
		fmt.Fprintf(&b, "{\"seq\":%d,\"event_id\":\"0123abcd-0000\",\"event_type\":%q,\"payload\":{\"agent_id\":%q}}\n", i, typ, agent)
	}
	p := filepath.Join(t.TempDir(), "credits.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	before := bytes.SplitAfter(b.Bytes(), []byte("\n"))
	d, err := ApplyFile(p, FirstLine("agent", "agent.registered", "agent_id", "b"), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(p)
	got := bytes.SplitAfter(after, []byte("\n"))
	for i := range before {
		if changed := !bytes.Equal(before[i], got[i]); changed != (i == 2) {
			t.Fatalf("line %d changed=%v; only line 3 (b's registration) may change", i+1, changed)
		}
	}
	if !bytes.Contains(got[2], []byte(`"agent_id":"b"`)) || bytes.Count(got[2], []byte("\n")) != 1 {
		t.Fatalf("the damaged line must still name the agent on one line: %q", got[2])
	}
	if d.Line != 3 || d.Expect != ExpectQuarantine || d.EntityKind != "agent" || d.EntityID != "b" || len(d.DestroyedSeqs) != 1 || d.DestroyedSeqs[0] != 3 {
		t.Fatalf("damage %+v, want line 3 (seq 3) of agent b, quarantine", d)
	}
}
