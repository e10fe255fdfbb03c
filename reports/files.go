package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// File names inside a run directory (out/<run-id>/).
const (
	SummaryFile  = "summary.json"
	JUnitFile    = "junit.xml"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// Limits: a summary is data about a run, not the run's raw history; anything
// bigger is a bug upstream and must not hang a CI step.
const (
	maxSummaryBytes  = 64 << 20
	maxArtifactBytes = 1 << 30
	maxArtifacts     = 1000
)

// Artifact is an extra file written next to the reports (HDR logs, the client
// operation history, an evidence bundle). Name is a relative slash path inside
// the run directory; it is listed in the summary and linked from report.html.
type Artifact struct {
	Name string
	Data []byte
}

var errArtifactName = errors.New("reports: artifact name must be a relative path inside the run directory")

func validArtifactName(name string) error {
	if name == "" || strings.Contains(name, `\`) || strings.Contains(name, ":") || path.IsAbs(name) ||
		path.Clean(name) != name || name == "." || name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("%w: %q", errArtifactName, name)
	}
	switch name {
	case SummaryFile, JUnitFile, MarkdownFile, HTMLFile:
		return fmt.Errorf("%w: %q is a report file", errArtifactName, name)
	}
	return nil
}

// WriteAll finalizes s (derived fields and verdict, see Finalize) and writes
// summary.json, junit.xml, report.md, report.html and the extras into dir.
// Files are replaced atomically, so a reader never sees half a report.
func WriteAll(dir string, s *Summary, extras ...Artifact) error {
	if len(extras) > maxArtifacts {
		return fmt.Errorf("reports: %d artifacts exceed the limit of %d", len(extras), maxArtifacts)
	}
	for _, a := range extras {
		if err := validArtifactName(a.Name); err != nil {
			return err
		}
		if len(a.Data) > maxArtifactBytes {
			return fmt.Errorf("reports: artifact %q is %d bytes, limit %d", a.Name, len(a.Data), maxArtifactBytes)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	for _, a := range extras {
		p := filepath.Join(dir, filepath.FromSlash(a.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		if err := writeFileAtomic(p, a.Data); err != nil {
			return err
		}
		s.Artifacts = append(s.Artifacts, a.Name)
	}
	s.Artifacts = dedupSorted(s.Artifacts)
	Finalize(s)
	js, err := MarshalSummary(s)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, SummaryFile), js); err != nil {
		return err
	}
	return writeRendered(dir, s)
}

// MarshalSummary is the exact summary.json encoding: indented, trailing newline.
func MarshalSummary(s *Summary) ([]byte, error) {
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("reports: encode summary: %w", err)
	}
	return append(js, '\n'), nil
}

// Load reads dir/summary.json (or the file itself when given a .json path).
// It does not finalize: the result is what was saved.
func Load(dir string) (*Summary, error) {
	p := dir
	if !strings.HasSuffix(dir, ".json") {
		p = filepath.Join(dir, SummaryFile)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSummaryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reports: read %s: %w", p, err)
	}
	if len(data) > maxSummaryBytes {
		return nil, fmt.Errorf("reports: %s exceeds %d bytes", p, maxSummaryBytes)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("reports: parse %s: %w", p, err)
	}
	return &s, nil
}

// Render re-renders junit.xml, report.md and report.html in dir from its saved
// summary.json. The verdict is recomputed under the current rules; when it
// differs from the saved one the report says so in a caveat. summary.json
// itself is left as it was.
func Render(dir string) error {
	s, err := Load(dir)
	if err != nil {
		return err
	}
	saved := s.OverallStatus
	Finalize(s)
	if saved != "" && saved != s.OverallStatus {
		s.Caveats = append(s.Caveats, fmt.Sprintf("summary.json says %s; the current verdict rules give %s for the same data", saved, s.OverallStatus))
	}
	return writeRendered(dir, s)
}

func writeRendered(dir string, s *Summary) error {
	ju, err := JUnit(s)
	if err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	page, err := HTML(s)
	if err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	for name, data := range map[string][]byte{JUnitFile: ju, MarkdownFile: []byte(Markdown(s)), HTMLFile: page} {
		if err := writeFileAtomic(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	return nil
}

func writeFileAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("reports: write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("reports: write %s: %w", p, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}

func dedupSorted(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
