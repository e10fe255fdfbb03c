//go:build mutant

// Seeded bug h13-torn-sidecar-keeps-last-line-only (blind hunt 13, in our
// engine; out of reach until stop 17): when a torn tail spans several lines
// (the torn line ends a command of several events) the sidecar keeps only
// the last, partial line; the complete lines cut with it are lost. Breaks
// SPEC §3 ("a torn tail ... is cut off, kept in a sidecar file").

package journal

// tornBytes is what a torn tail's sidecar keeps: every line recovery held
// back from the end of the file, byte for byte, the torn one included.
func tornBytes(held []lineRec) []byte {
	var tail []byte
	for _, r := range held {
		tail = r.raw // BUG: only the last line held is kept
	}
	return tail
}
