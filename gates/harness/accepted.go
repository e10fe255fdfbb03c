package harness

import (
	"fmt"
	"net/http"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
)

// Accepted is Ensure(r.OK(), …) for a request a measurement stands on
// (what says which, e.g. "creating pool p1"): unless it was acknowledged
// the node fails, saying what was expected and what came back. Except that
// a 400 or 422 on an operation whose body SPEC §6 leaves to the backend
// (scenarios.BackendShaped) means the backend takes another shape, not that it is
// broken: the node is skipped, so what it would have measured is reported
// not measured with this reason, never failed on the harness's request.
// Our own engine defines those shapes (docs/events.md, its OpenAPI
// document): there such a refusal fails like any other.
func Accepted(r scenarios.Reply, what string, args ...any) {
	if r.OK() {
		return
	}
	w := fmt.Sprintf(what, args...)
	if scenarios.BackendShaped(r.Op.Kind) && (r.Status == http.StatusBadRequest || r.Status == http.StatusUnprocessableEntity) &&
		!target.ConfigFromEnv().Kind.OwnEngine() {
		ginkgo.Skip(fmt.Sprintf("not measured: %s was refused %d %s. SPEC §6 leaves the request bodies of pools, missions and "+
			"collaborations to the backend (\"document them\") and this workload sends our engine's, fitted to the members the backend's OpenAPI document names where it names them; what it would have measured is not measured",
			w, r.Status, truncate(string(r.Raw), 240)))
	}
	ginkgo.Fail(fmt.Sprintf("%s must be acknowledged; it answered %d %s", w, r.Status, truncate(string(r.Raw), 400)), 1)
}
