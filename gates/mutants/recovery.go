package mutants

// Mutants of journal recovery (issue 13), rejected by gate D's corruption
// table: damage that recovery hides, and the old refusal to start when a
// damaged line was the first line of an entity.
func recoveryMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "recovery-silent-skip", Gate: "d", Check: "D20",
			Bug: "recovery moves a damaged line out of the journal without logging or reporting it, so /journal/verify and health say nothing",
			Patches: []Patch{Marked("engine/journal/recovery.go", "recovery-report-quarantine",
				"\ts.log.Warn(\"journal recovery: quarantining corrupt line\", \"file\", s.path, \"line\", r.no,\n\t\t\"offset\", r.off, \"reason\", reason)\n\ts.rep.Quarantined = append(s.rep.Quarantined, BadLine{Line: r.no, Offset: r.off, Reason: reason, Seq: seq})\n",
				"\t_ = seq\n")}},
		Mutant{Name: "recovery-dependents-block-start", Gate: "d", Check: "D18",
			Bug: "an event about an entity whose first line was quarantined fails the replay, so creditd refuses to start (the old behaviour)",
			Patches: []Patch{Marked("engine/journal/recovery.go", "recovery-dependents-start",
				"if errors.As(err, &dep) && s.policy != PolicyStrict", "if false && errors.As(err, &dep) && s.policy != PolicyStrict")}},
	}
}
