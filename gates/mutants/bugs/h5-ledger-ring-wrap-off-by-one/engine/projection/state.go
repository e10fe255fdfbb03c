//go:build mutant

// Seeded bug h5-ledger-ring-wrap-off-by-one (blind hunt 5): once an agent's
// in-memory ledger window is full (CREDITD_LEDGER_KEEP entries, default 200;
// from then on it wraps), the newest-first walk starts at the ring's next
// slot to overwrite (its OLDEST entry) instead of the slot before it, so GET
// /history answers the oldest kept entry first, then the newest ones shifted
// by one (SPEC §4: ledger newest first in queries; §6 history newest first).
// Live and replay build the same ring, so the digest stays equal across a
// restart; agents with fewer than 200 ledger entries are unaffected.

package projection

// newest returns up to limit entries after skipping offset, newest first,
// and whether the ring covered the request completely.
func (r *ring) newest(offset, limit int) []Entry {
	n := len(r.buf)
	out := make([]Entry, 0, min(limit, n))
	for i := offset; i < n && len(out) < limit; i++ {
		// index of the i-th newest
		idx := (r.next - i + n) % n
		if !r.full {
			idx = n - 1 - i
		}
		out = append(out, r.buf[idx])
	}
	return out
}
