//go:build mutant

// Seeded bug h8-gap-not-degraded (blind hunt 8): recovery's "clean" ignores seq gaps, so whole lines
// cut from the middle of the journal (no undecodable byte left) are reported nowhere but in the gap
// list: health stays healthy and the report says clean. Breaks SPEC §3 (a gap is a media fault,
// quarantined and reported; never silently skip). A client sees: delete lines 4–5 of the journal,
// restart → /api/health healthy, /journal/verify clean: true with a gap listed.

package journal

func (r *RecoveryReport) clean() bool {
	return r.TornTail == nil && len(r.Quarantined) == 0 && len(r.Dependents) == 0
}
