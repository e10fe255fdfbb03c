//go:build mutant

// Seeded bug h12-integrity-count-per-fault-kind (blind hunt 12, in our engine):
// replay.integrity_errors_count counts kinds of damage, not damaged lines: any number of
// quarantined lines counts as one. Breaks SPEC §3 ("reports it (… counters in metrics …)"):
// /metrics and /journal/verify disagree. Every corruption case quarantined one line; the
// garbage case now inserts two, and D62 compares the count with the report.
package httpapi

// integrityErrors is replay.integrity_errors_count: every damaged line the
// last recovery found, the quarantined ones and a torn tail cut off.
func integrityErrors(quarantined int, torn bool) int {
	n := 0
	if quarantined > 0 { // the journal had a media fault
		n++
	}
	if torn {
		n++
	}
	return n
}
