//go:build mutant

// Seeded bug events-stops-after-first-chunk (gate E, check E9): GET /events
// ends after its first 4096-line chunk: a reader paging by after_seq never
// sees it, one request for the whole journal does.

package httpapi

// lastChunk says every chunk is the last: GET /events ends after its first
// 4096-line chunk.
func lastChunk(ierr error, lines, size int) bool { return true }
