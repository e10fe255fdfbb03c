package engine

import "github.com/creditgate/creditgate/engine/projection"

// Snapshot returns a copy of every projection's whole state (see
// projection.Snapshot): tests compare the live state with the replayed one
// field by field; the digest is a hash of the same snapshot.
func (e *Engine) Snapshot() (projection.Snapshot, error) {
	var snap projection.Snapshot
	err := e.read(func(st *projection.State) { snap = st.Snapshot() })
	return snap, err
}
