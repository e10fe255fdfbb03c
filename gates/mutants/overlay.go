package mutants

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build builds creditd with the mutant's patches applied through a
// `go build -overlay` (the patched files are written to a temporary
// directory; the working tree is never touched and the build cache
// serves every package the patches leave alone). It returns the binary's
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
	overlay, err := WriteOverlay(root, tmp, m)
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

// WriteOverlay applies the mutant's patches (in order; several may patch
// one file) to copies under tmp and writes the overlay file that maps each
// original path to its patched copy; it returns the overlay file's path.
func WriteOverlay(root, tmp string, m Mutant) (string, error) {
	patched := map[string]string{} // repo-relative path → patched source
	var order []string
	for _, p := range m.Patches {
		src, ok := patched[p.File]
		if !ok {
			b, err := os.ReadFile(filepath.Join(root, p.File))
			if err != nil {
				return "", err
			}
			src = string(b)
			order = append(order, p.File)
		}
		out, err := p.Apply(src)
		if err != nil {
			return "", err
		}
		patched[p.File] = out
	}
	replace := map[string]string{}
	for i, f := range order {
		dst := filepath.Join(tmp, fmt.Sprintf("%d-%s", i, filepath.Base(f)))
		if err := os.WriteFile(dst, []byte(patched[f]), 0o644); err != nil {
			return "", err
		}
		abs, err := filepath.Abs(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		replace[abs] = dst
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(tmp, "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o644)
}
