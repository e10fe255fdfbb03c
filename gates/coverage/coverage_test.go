package coverage

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated coverage section of docs/gates.md")

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
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

func TestTheMapDetectsAnUncoveredRouteAndAMissingCheck(t *testing.T) {
	root := repoRoot(t)
	saved := Routes["GET /livez"]
	delete(Routes, "GET /livez")
	Routes["GET /no/such/route"] = []string{"a check that no gate records"}
	defer func() {
		Routes["GET /livez"] = saved
		delete(Routes, "GET /no/such/route")
	}()
	probs, err := Problems(root)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(probs, "\n")
	for _, want := range []string{"route not covered: GET /livez", "mapped route not in the OpenAPI document: GET /no/such/route",
		`check "a check that no gate records" does not exist`} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not report %q:\n%s", want, all)
		}
	}
}

func TestPlaceholdersSplitComposedNames(t *testing.T) {
	got := literalParts("KARMA <mode>: consumes succeeded")
	if len(got) != 2 || got[0] != "KARMA " || got[1] != ": consumes succeeded" {
		t.Fatalf("literalParts = %q", got)
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
