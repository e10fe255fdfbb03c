//go:build mutant

// Seeded bug h10-checksum-warn-only (the class of blind hunt 10's h10-crc-warn-only on the
// original's routes, written into our engine): a line whose checksum fails is parsed all the
// same when it is still valid JSON ("it parses, so it is fine"). Breaks SPEC §3 ("a per-line
// checksum, so a flipped bit is detected, not parsed into wrong money"): a changed digit of an
// amount is replayed as other money.
package event

func Decode(line []byte) (Envelope, error) {
	var e Envelope
	if err := Verify(line); err != nil && err != ErrChecksum {
		return e, err
	}
	if decodeCanonical(line, &e) {
		return e, nil
	}
	return decodeJSON(line)
}
