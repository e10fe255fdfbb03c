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
	}
}
