package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootIsTheDirectoryHoldingGoMod(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s holds no go.mod: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "repo", "repo.go")); err != nil {
		t.Fatalf("%s is not this module's root: %v", root, err)
	}
}

// Outside a checkout the error says where it looked and what to do.
func TestRootOutsideACheckoutSaysWhereToRun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, err := Root()
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "inside its checkout") {
		t.Fatalf("Root() outside a checkout: %v", err)
	}
}
