package mutants

import (
	"fmt"
	"slices"
	"strings"
)

// Mutant is an engine with one seeded bug: small text patches applied
// through a `go build -overlay` (Build), built into a throwaway creditd. Each
// patch must match exactly once, so a mutant that no longer applies fails
// loudly instead of silently testing the unmutated engine.
//
// Every patch is anchored on a comment `//mutant:<marker>` in the
// engine (as etcd's gofail anchors failpoints): its old text is looked up
// only in the markerWindow lines after that comment (first occurrence), so
// refactors elsewhere in the file cannot move or duplicate the anchor.
type Mutant struct {
	Name, Gate, Bug string
	// Check is the catalog ID of the check that guards against the bug
	// (a comma list where a race decides which of several guards fires
	// first): the mutant counts as rejected only when one of them fails (a
	// NO-GO by another check is "caught by the wrong check", a failure of
	// its own).
	Check   string
	Patches []Patch
	Env     []string // extra LIVE_TEST_* (or CREDITGATE_*) for the gate run
	// Runs (default 1) is how many gate runs may try to reject a bug that
	// shows only when a fault lands inside its window; it counts as
	// rejected on the first run that rejects it.
	Runs int
}

// Patch replaces Old with New in File, within the lines after its
// `//mutant:<Marker>` comment.
type Patch struct{ File, Marker, Old, New string }

// Marked is a patch anchored on a `//mutant:<marker>` comment (exactly one
// in the file): the first occurrence of old within the markerWindow lines
// after it is replaced.
func Marked(file, marker, old, new string) Patch {
	return Patch{File: file, Marker: marker, Old: old, New: new}
}

// markerWindow is how many lines after a `//mutant:` comment a marked
// patch's old text may start in.
const markerWindow = 12

// Apply returns src with the patch applied, or an error when its anchor
// is missing or ambiguous.
func (p Patch) Apply(src string) (string, error) {
	if p.Marker == "" {
		return "", fmt.Errorf("%s: a patch needs a //mutant: marker (anchors on bare text break on refactors)", p.File)
	}
	tag := "//mutant:" + p.Marker
	lines := strings.SplitAfter(src, "\n")
	at := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == tag {
			if at >= 0 {
				return "", fmt.Errorf("%s: marker %s found twice", p.File, tag)
			}
			at = i
		}
	}
	if at < 0 {
		return "", fmt.Errorf("%s: marker %s not found", p.File, tag)
	}
	head := strings.Join(lines[:at+1], "")
	end := min(len(lines), at+1+markerWindow)
	window := strings.Join(lines[at+1:end], "")
	if !strings.Contains(window, p.Old) {
		return "", fmt.Errorf("%s: the anchor is not within %d lines after marker %s: %q", p.File, markerWindow, tag, FirstLine(p.Old))
	}
	return head + strings.Replace(window, p.Old, p.New, 1) + strings.Join(lines[end:], ""), nil
}

// All is every seeded bug, in the order verify-gates runs them.
func All() []Mutant {
	return slices.Concat(coreMutants(), clusterMutants(), contractMutants(), coverageMutants(), evidenceMutants(),
		exploreMutants(), hardeningMutants(), historyMutants(), powerlossMutants(), recoveryMutants(), replayMutants(),
		streamMutants())
}

// FirstLine is s up to its first newline.
func FirstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
