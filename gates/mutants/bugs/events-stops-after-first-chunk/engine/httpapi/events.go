//go:build mutant

package httpapi

// lastChunk says every chunk is the last: GET /events ends after its first
// 4096-line chunk.
func lastChunk(ierr error, lines, size int) bool { return true }
