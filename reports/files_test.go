package reports

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadReturnsWhatWriteAllSaved(t *testing.T) {
	dir := t.TempDir()
	s := noGoSummary(t)
	if err := WriteAll(dir, s); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, SummaryFile)} {
		got, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := MarshalSummary(s)
		b, _ := MarshalSummary(got)
		if string(a) != string(b) {
			t.Fatalf("Load(%s) differs from what was written", p)
		}
	}
}

func TestRenderReproducesTheReportsFromSummaryJSON(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(dir, goSummary(t)); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, f := range []string{JUnitFile, MarkdownFile, HTMLFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		before[f] = string(b)
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := Render(dir); err != nil {
		t.Fatal(err)
	}
	for f, want := range before {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s re-rendered differently", f)
		}
	}
}

// A hand-edited verdict cannot survive a re-render: the report recomputes it
// and says that the saved one disagrees.
func TestRenderRecomputesAnEditedVerdictAndSaysSo(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(dir, noGoSummary(t)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, SummaryFile)
	raw, _ := os.ReadFile(p)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["overall_status"] = "GO"
	edited, _ := json.Marshal(m)
	if err := os.WriteFile(p, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Render(dir); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if !strings.HasPrefix(string(md), "# ⛔ Sign-off verdict: NO-GO") || !strings.Contains(string(md), "summary.json says GO; the current verdict rules give NO-GO") {
		t.Fatalf("report.md:\n%s", md)
	}
}

func TestWriteAllRejectsArtifactsOutsideTheRunDirectory(t *testing.T) {
	for _, name := range []string{"", "../x", "/etc/passwd", "a/../../x", `a\b`, "c:x", ".", "summary.json", "a//b", "./a"} {
		err := WriteAll(t.TempDir(), goSummary(t), Artifact{Name: name})
		if !errors.Is(err, errArtifactName) {
			t.Errorf("artifact %q: err %v, want errArtifactName", name, err)
		}
	}
}

func TestLoadFailsClearly(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "summary.json") {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(`{"test_config":{"test_duration":"soon"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "soon") {
		t.Errorf("bad duration: %v", err)
	}
}

func TestSecondsReadsNumbersAndDurationStrings(t *testing.T) {
	for in, want := range map[string]Seconds{`1800`: 1800, `12.5`: 12.5, `"30m"`: 1800, `"1m30s"`: 90, `"45"`: 45} {
		var d Seconds
		if err := json.Unmarshal([]byte(in), &d); err != nil || d != want {
			t.Errorf("%s: got %v, %v; want %v", in, d, err, want)
		}
	}
	out, _ := json.Marshal(Seconds(90))
	if string(out) != "90" {
		t.Errorf("Seconds marshals as %s", out)
	}
}
