//go:build mutant

// Seeded bug h13-torn-sidecar-drops-torn-line (blind hunt 13, on the
// independent backend and here): the sidecar keeps the complete lines held
// back before the torn one, not the torn line itself, so a torn tail of one
// line leaves an empty sidecar and its bytes are gone. Breaks SPEC §3 ("a torn
// tail … is cut off, kept in a sidecar file"). Nothing read a sidecar; D65
// does.
package journal

func tornBytes(held []lineRec) []byte {
	var tail []byte
	for _, r := range held[:len(held)-1] {
		tail = append(tail, r.raw...)
	}
	return tail
}
