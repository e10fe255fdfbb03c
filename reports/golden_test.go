package reports

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/<name>, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file; run go test ./reports -update and review the diff.\n--- got ---\n%s", p, got)
	}
}

func TestWriteAllMatchesGoldenFiles(t *testing.T) {
	cases := []struct {
		name string
		s    *Summary
	}{
		{"go", goSummary(t)},
		{"nogo", noGoSummary(t)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := WriteAll(dir, tc.s, Artifact{Name: "hdr/overall.hlog", Data: []byte("#hdr\n")}, Artifact{Name: "history.jsonl", Data: []byte("{}\n")})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{SummaryFile, MarkdownFile, JUnitFile} {
				got, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join(tc.name, f), got)
			}
			if _, err := os.Stat(filepath.Join(dir, "hdr", "overall.hlog")); err != nil {
				t.Errorf("artifact not written: %v", err)
			}
		})
	}
}

// The original live-test report (no gate_details) must load and render: its
// `gates` booleans become gate details without checks.
func TestRenderAcceptsTheOriginalReportFormat(t *testing.T) {
	dir := t.TempDir()
	in, err := os.ReadFile(filepath.Join("testdata", "original", "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), in, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Render(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MarkdownFile, JUnitFile} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, filepath.Join("original", f), got)
	}
	after, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(in) {
		t.Error("Render must leave summary.json as it was")
	}
}
