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
		// Our engine's own: found when D65's workload ended the torn tail
		// with a command of several events; D20 wants it cut as a torn
		// tail (its report names one), not quarantined.
		{Name: "h14-torn-command-checksum-quarantined", Gate: "d", Check: "D20",
			Bug: "a command's last line failing its checksum completes the command: quarantined as damage in the middle, the command's other lines kept, not cut as a torn tail"},
	}
}
