//go:build mutant

// Seeded bug digest-of-first-read (gate B, check B51): the digest is
// computed once, on the first read after start, and served from then on (a
// cache meant to spare the hash on every poll, never invalidated): the seq
// moves, the digest does not. Replay equality still holds after a restart,
// since both sides are first reads.

package engine

import (
	"sync"

	"github.com/creditgate/creditgate/engine/projection"
)

var digestOnce struct {
	sync.Once
	d string
}

// Digest returns the seq and the state digest of all projections.
func (e *Engine) Digest() (uint64, string, error) {
	var seq uint64
	var d string
	err := e.read(func(st *projection.State) {
		seq = st.Seq()
		digestOnce.Do(func() { digestOnce.d = st.Digest(e.digestExtra) })
		d = digestOnce.d
	})
	return seq, d, err
}
