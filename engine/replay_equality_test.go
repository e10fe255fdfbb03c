package engine_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/projection"
)

// snapshot reads an engine's whole projected state.
func snapshot(t *testing.T, e *engine.Engine) projection.Snapshot {
	t.Helper()
	s, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requireSameState fails with a field-by-field diff when the replayed
// state differs from the live one in anything at all.
func requireSameState(t *testing.T, what string, live, replayed projection.Snapshot) {
	t.Helper()
	if d := cmp.Diff(live, replayed); d != "" {
		t.Fatalf("%s: replayed state differs from the live state (-live +replayed):\n%s", what, d)
	}
}
