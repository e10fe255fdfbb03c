package eventtest

import (
	"bufio"
	"bytes"
	"os"
	"testing"

	"github.com/creditgate/creditgate/engine/event"
)

// ReadJournal decodes every line of the journal file at path, failing the
// test on any line that does not verify.
func ReadJournal(tb testing.TB, path string) []event.Envelope {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []event.Envelope
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		ev, err := event.Decode(sc.Bytes())
		if err != nil {
			tb.Fatalf("journal line %d: %v", n, err)
		}
		out = append(out, ev)
	}
	return out
}
