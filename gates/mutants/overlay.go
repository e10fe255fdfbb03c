package mutants

import (
	"encoding/json"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// BugsDir is the repo-relative directory holding one directory per mutant
// (gates/mutants/bugs/<name>/), which mirrors the repo paths of the
// packages the mutant changes: bugs/<name>/engine/engine.go is Go of
// package engine, kept out of normal builds by `//go:build mutant`.
const BugsDir = "gates/mutants/bugs"

// Build builds creditd with the mutant's bug files planted through a
// `go build -overlay` (the merged files are written to a temporary
// directory; the working tree is never touched and the build cache
// serves every package the mutant leaves alone). It returns the binary's
// path and the directory (for the caller to remove, also after an error).
func Build(root string, m Mutant) (bin, tmp string, err error) {
	tmp, err = os.MkdirTemp("", "creditgate-mutant-"+m.Name+"-")
	if err != nil {
		return "", "", err
	}
	bin, err = buildIn(root, tmp, m)
	return bin, tmp, err
}

func buildIn(root, tmp string, m Mutant) (string, error) {
	overlay, _, err := WriteOverlay(root, tmp, m.BugDir())
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "creditd")
	cmd := exec.Command("go", "build", "-overlay", overlay, "-o", bin, "./cmd/creditd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// WriteOverlay plants the bug files of the named mutant (see plant) into
// copies under tmp and writes the overlay file mapping each replaced or
// added path to its copy. It returns the overlay file's path and the
// changed packages (./-prefixed, for go build or go vet).
func WriteOverlay(root, tmp, name string) (overlay string, pkgs []string, err error) {
	bugs, err := readBugs(root, name)
	if err != nil {
		return "", nil, err
	}
	orig := map[string]map[string]string{}
	for dir := range bugs {
		files, err := readPackage(filepath.Join(root, filepath.FromSlash(dir)))
		if err != nil {
			return "", nil, fmt.Errorf("mutant %s: %v", name, err)
		}
		orig[dir] = files
		pkgs = append(pkgs, "./"+dir)
	}
	sort.Strings(pkgs)
	planted, err := plant(orig, bugs)
	if err != nil {
		return "", nil, fmt.Errorf("mutant %s: %v", name, err)
	}
	replace := map[string]string{}
	for i, p := range sortedKeys(planted) {
		dst := filepath.Join(tmp, fmt.Sprintf("%d-%s", i, filepath.Base(p)))
		if err := os.WriteFile(dst, []byte(planted[p]), 0o644); err != nil {
			return "", nil, err
		}
		abs, err := filepath.Abs(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return "", nil, err
		}
		replace[abs] = dst
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", nil, err
	}
	overlay = filepath.Join(tmp, "overlay.json")
	return overlay, pkgs, os.WriteFile(overlay, b, 0o644)
}

// readBugs reads a mutant's bug files: package dir → base name → source.
func readBugs(root, name string) (map[string]map[string]string, error) {
	base := filepath.Join(root, BugsDir, name)
	if st, err := os.Stat(base); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("mutant %s: no bug directory %s/%s", name, BugsDir, name)
	}
	bugs := map[string]map[string]string{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(p, ".go") {
			return fmt.Errorf("%s: a bug directory holds only .go files", p)
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		if bugs[dir] == nil {
			bugs[dir] = map[string]string{}
		}
		bugs[dir][filepath.Base(rel)] = string(b)
		return nil
	})
	if err == nil && len(bugs) == 0 {
		err = fmt.Errorf("mutant %s: %s/%s holds no Go file", name, BugsDir, name)
	}
	return bugs, err
}

// readPackage reads the non-test Go files of a package directory that the
// mutant build compiles (this GOOS/GOARCH, CGO_ENABLED=0).
func readPackage(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ctx := build.Default
	ctx.CgoEnabled = false
	files := map[string]string{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		if ok, err := ctx.MatchFile(dir, n); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		files[n] = string(b)
	}
	return files, nil
}

// Names lists the mutants that have a bug directory.
func Names(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, BugsDir))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
