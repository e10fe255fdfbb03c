package coverage

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/internal/repo"
)

var update = flag.Bool("update", false, "rewrite the generated coverage section of docs/gates.md")

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestEveryRouteAndRuleHasAnExistingCheck(t *testing.T) {
	probs, err := Problems(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) > 0 {
		t.Fatalf("NO-GO not covered: %d problem(s):\n  %s", len(probs), strings.Join(probs, "\n  "))
	}
}

func TestTheMapDetectsAnUncoveredRoute(t *testing.T) {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "engine", "httpapi"), 0o755)
	doc := `{"openapi":"3.0.3","paths":{"/api/credits/consume":{"post":{}},"/api/credits/no-check":{"get":{}}}}`
	if err := os.WriteFile(filepath.Join(dir, "engine", "httpapi", "openapi.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	probs, err := Problems(dir)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(probs, "\n")
	for _, want := range []string{"route not covered: GET /api/credits/no-check", "catalog route not in the OpenAPI document: GET /api/credits/balances"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not report %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "POST /api/credits/consume") {
		t.Errorf("a covered route is reported:\n%s", all)
	}
}

func TestDocsGatesShowsTheCurrentMap(t *testing.T) {
	path := filepath.Join(repoRoot(t), "docs", "gates.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Splice(string(b))
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(b) {
		t.Fatalf("docs/gates.md's coverage map is stale: run `go test ./gates/coverage -update`")
	}
}
