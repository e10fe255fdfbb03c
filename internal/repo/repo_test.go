package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Outside a checkout the error says where it looked and what to do.
func TestRootOutsideACheckoutSaysWhereToRun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, err := Root()
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "inside its checkout") {
		t.Fatalf("Root() outside a checkout: %v", err)
	}
}

// From a package directory it finds the module root, the directory
// holding go.mod.
func TestRootFindsTheModule(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil || strings.HasSuffix(root, "internal/repo") {
		t.Fatalf("Root() = %q: %v", root, err)
	}
}
