package main

// Mutants of the journal export: each proves the whole-stream check (E9)
// rejects a GET /events that a paged reader would not notice.
func init() {
	mutants = append(mutants,
		mutant{name: "events-stops-after-first-chunk", gate: "e", check: "E9", env: []string{"LIVE_TEST_DURATION=40s"},
			bug: "GET /events ends after its first 4096-line chunk: a reader paging by after_seq never sees it, one request for the whole journal does",
			patches: []patch{marked("engine/httpapi/events.go", "events-next-chunk",
				"if ierr != nil || (lines < exportChunkLines && len(chunk) < exportChunkBytes) {",
				"if true {")}},
	)
}
