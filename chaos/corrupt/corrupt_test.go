package corrupt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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
			if d.Expect == ExpectTorn && (d.TornSeq != 40 || bytes.HasSuffix(after, []byte("\n"))) {
				t.Fatalf("torn tail must cut the last line without its newline: %+v", d)
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
