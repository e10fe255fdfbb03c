package corrupt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// The changed money digit keeps the line valid JSON with its seq, in an
// amount, and differs from the original in that one byte: only a checksum
// can tell, on our engine's line form and on the original's string amounts.
func TestAMoneyDigitChangeStillParses(t *testing.T) {
	for _, line := range []string{
		`{"seq":9,"payload":{"agent_id":"a","amount_milli":213,"balance_after_milli":79787},"crc":"4110975f"}`,
		`{"seq":5,"payload":{"agent_id":"a","amount":"0.213","balance_after":"79.787"},"crc":"1f7a0585"}`,
		`{"seq":7,"payload":{"agent_id":"a","amount":0}}`,
	} {
		for seed := uint64(0); seed < 50; seed++ {
			got, ok := changeAmountDigit([]byte(line), rand.New(rand.NewPCG(seed, 3)))
			if !ok || !json.Valid(got) || Seq(got) != Seq([]byte(line)) {
				t.Fatalf("%s, seed %d: %q (ok %v)", line, seed, got, ok)
			}
			diff, at := 0, -1
			for i := range got {
				if got[i] != line[i] {
					diff, at = diff+1, i
				}
			}
			amount := strings.Index(line, `"amount`)
			end := amount + strings.IndexAny(line[amount+8:], ",}") + 8
			if diff != 1 || at < amount || at >= end {
				t.Fatalf("%s, seed %d: %d bytes changed, the last at %d (the amount spans %d–%d): %q", line, seed, diff, at, amount, end, got)
			}
		}
	}
	if _, ok := changeAmountDigit([]byte(`{"seq":1,"payload":{"agent_id":"a"}}`), rand.New(rand.NewPCG(1, 1))); ok {
		t.Fatal("a line without an amount was changed")
	}
}

// AmountOf aims at the agent's consume, never another agent's line nor the
// last line, and says where.
func TestAmountOfChangesTheAgentsConsumeOnly(t *testing.T) {
	lines := [][]byte{
		[]byte(`{"seq":1,"event_type":"credit.consumed","payload":{"agent_id":"b","amount_milli":250}}` + "\n"),
		[]byte(`{"seq":2,"event_type":"credit.allocated","payload":{"agent_id":"a","amount_milli":100000}}` + "\n"),
		[]byte(`{"seq":3,"event_type":"credit.consumed","payload":{"agent_id":"a","amount_milli":250}}` + "\n"),
		[]byte(`{"seq":4,"event_type":"credit.consumed","payload":{"agent_id":"b","amount_milli":250}}` + "\n"),
	}
	out, d := AmountOf("a").Apply(lines, rand.New(rand.NewPCG(1, 2)))
	if d.Line != 3 || fmt.Sprint(d.DestroyedSeqs) != "[3]" || bytes.Equal(out[2], lines[2]) || !json.Valid(bytes.TrimSpace(out[2])) {
		t.Fatalf("damage %+v, line 3 now %s", d, out[2])
	}
	for i := range lines {
		if i != 2 && !bytes.Equal(out[i], lines[i]) {
			t.Fatalf("line %d changed: %s", i+1, out[i])
		}
	}
	if _, d := AmountOf("b").Apply(lines[3:], rand.New(rand.NewPCG(1, 2))); d.Line != 0 {
		t.Fatalf("the last line was aimed at: %+v", d)
	}
}
