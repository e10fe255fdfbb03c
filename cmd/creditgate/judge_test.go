package main

import (
	"os"
	"path/filepath"
	"testing"
)

// judge-explore exits 0 on a run the rules explain, 1 on one they do not,
// and 1 with a message on a file that is not a run.
func TestJudgeExploreExitsWithTheJudgment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = `{"seed":1,"settings":{"threshold_milli":500000,"high_milli":5000000,"critical_milli":50000000,"max_amount_milli":1000000000000},` +
		`"principals":[{"name":"op","role":"operator","token":"t"}],"commands":[` +
		`{"n":0,"method":"POST","path":"/api/credits/agents","body":{"agent_id":"a","skill_level":1},"token":"t","retry_of":-1,"status":200,"resp":{"balance":100}},`
	good := write("good.json", head+`{"n":1,"method":"GET","path":"/api/credits/balance/a","token":"t","retry_of":-1,"status":200,"resp":{"balance":100},"final":true}]}`)
	bad := write("bad.json", head+`{"n":1,"method":"GET","path":"/api/credits/balance/a","token":"t","retry_of":-1,"status":200,"resp":{"balance":90},"final":true}]}`)
	if code := cmdJudgeExplore([]string{good}); code != 0 {
		t.Errorf("a run the rules explain: exit %d, want 0", code)
	}
	if code := cmdJudgeExplore([]string{bad}); code != 1 {
		t.Errorf("a balance the model does not hold: exit %d, want 1", code)
	}
	if code := cmdJudgeExplore([]string{write("junk.json", "[1,2")}); code != 1 {
		t.Errorf("a file that is not a run: exit %d, want 1", code)
	}
}
