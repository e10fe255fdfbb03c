package mutants

// hunt14Mutants come from the fourteenth round of blind hunting (round 3)
// and the exec settings that opened the expiry checks to another backend.
func hunt14Mutants() []Mutant {
	return []Mutant{
		// No check restarted a backend with requests pending (the
		// independent backend's hunt 13 re-armed them at start); C38 stops
		// it across a HIGH deadline and before a CRITICAL one.
		{Name: "h14-deadline-rearmed-at-replay", Gate: "c", Check: "C38",
			Bug: "a pending request's deadline is folded as its timeout from the time of the fold: a replay at start arms it anew"},
		// The replay metrics were read for their JSON type only (B46);
		// D68 bounds them by the start the harness timed.
		{Name: "h14-replay-duration-in-ms", Gate: "d", Check: "D68", Verdict: "CONDITIONAL", // D68 is not critical
			Bug: "replay.replay_duration_seconds carries milliseconds"},
		// B11 recomputed each reward from the score the event records;
		// where the harness runs KARMA it now wants that score to be the
		// one KARMA serves the rewarded agent.
		{Name: "h14-synergie-team-karma-of-first", Gate: "b", Check: "B11",
			Bug: "every reward of a collaboration is weighted by the first agent's KARMA score, recorded as each agent's own"},
		// D66 wanted a refusal; it now wants the refusal to name the
		// file and the damaged line.
		{Name: "h14-strict-gap-names-previous-line", Gate: "d", Check: "D66",
			Bug: "policy strict refuses a seq gap naming the line before it, not the line where the gap is"},
		// B53 counted events only; it now reads journal.file_size_mb
		// against the journal file where the harness can stat it.
		{Name: "h14-file-size-in-kib", Gate: "b", Check: "B53", Verdict: "CONDITIONAL", // B53 is not critical
			Bug: "journal.file_size_mb carries the journal's size in KiB"},
		// Our engine's own: found when D65's workload ended the torn tail
		// with a command of several events; D20 wants it cut as a torn
		// tail (its report names one), not quarantined.
		{Name: "h14-torn-command-checksum-quarantined", Gate: "d", Check: "D20",
			Bug: "a command's last line failing its checksum completes the command: quarantined as damage in the middle, the command's other lines kept, not cut as a torn tail"},
	}
}
