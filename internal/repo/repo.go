package repo

import (
	"fmt"
	"os"
	"path/filepath"
)

// Root walks up from the working directory to the directory holding
// go.mod.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	dir := wd
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repo: no go.mod in or above %s: creditgate runs inside its checkout (it compiles the gate suites there); cd into it first", wd)
		}
		dir = parent
	}
}
