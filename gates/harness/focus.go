package harness

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/reports"
)

// Focus is the checks a focused run selects (catalog.FocusEnv, set by
// `creditgate gates --checks`); nil runs every check. Ginkgo runs only the
// containers labelled with one of them (Checks), and the gate's scope lists
// only them, so the checks not selected neither run nor read NOT MEASURED.
func Focus() []string {
	var out []string
	for _, id := range strings.Split(os.Getenv(catalog.FocusEnv), ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// Checks labels a spec container with every catalog check its specs
// record, which is what a focused run selects by (`--checks A16` runs the
// containers labelled A16, their BeforeAll included). Record refuses an ID
// its spec does not carry, so the labels cannot fall behind the specs; an
// unknown ID panics when the suite is built.
func Checks(ids ...string) ginkgo.Labels {
	for _, id := range ids {
		catalog.MustLookup(id)
	}
	return ginkgo.Label(ids...)
}

// checkLabelled fails the spec when it records a check its container is not
// labelled with (Checks): a focused run selecting that check would skip
// the spec that measures it.
func checkLabelled(id string) {
	if slices.Contains(ginkgo.CurrentSpecReport().Labels(), id) {
		return
	}
	ginkgo.Fail(fmt.Sprintf("harness: spec %q records check %s but its container is not labelled with it: add %s to its harness.Checks(…), or a run focused on %s (--checks) skips it",
		ginkgo.CurrentSpecReport().FullText(), id, id, id))
}

// SkipUnlessSelected skips the running spec when a focused run selected
// none of ids: for a costly spec whose container also records checks of
// its own (a focused run selects by container, so it would run every
// spec in it). ids are every check the spec records.
func SkipUnlessSelected(ids ...string) {
	f := Focus()
	if len(f) == 0 {
		return
	}
	for _, id := range ids {
		if slices.Contains(f, id) {
			return
		}
	}
	ginkgo.Skip(fmt.Sprintf("%s (%s)", reports.FocusSkip, strings.Join(f, ",")))
}
