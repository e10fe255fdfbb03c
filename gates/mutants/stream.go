package mutants

// Mutants of the journal export: each proves the whole-stream check (E9)
// rejects a GET /events that a paged reader would not notice.
func streamMutants() []Mutant {
	return []Mutant{
		Mutant{Name: "events-stops-after-first-chunk", Gate: "e", Check: "E9", Env: []string{"LIVE_TEST_DURATION=40s"},
			Bug: "GET /events ends after its first 4096-line chunk: a reader paging by after_seq never sees it, one request for the whole journal does"},
	}
}
