package repo

import (
	"os"
	"path/filepath"
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
