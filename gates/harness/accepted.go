package harness

import (
	"fmt"
	"net/http"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

// BackendShaped reports whether SPEC §6 leaves the request body of an
// operation to the backend: pools, missions and synergie collaborations
// ("pools and mission hooks (document them)"). Our workloads send our own
// engine's shapes there; another conforming backend may take others.
func BackendShaped(k history.Kind) bool {
	switch k {
	case history.KindPoolCreate, history.KindPoolAllocate, history.KindPoolConsume, history.KindPoolRefund, history.KindPoolClose,
		history.KindPoolTransfer, history.KindPoolMember, history.KindMissionStart, history.KindMissionComplete,
		history.KindMissionFail, history.KindMissionCancel, history.KindMissionRate, history.KindCollaboration:
		return true
	}
	return false
}

// Accepted is Ensure(r.OK(), …) for a request a measurement stands on
// (what says which, e.g. "creating pool p1"): unless it was acknowledged
// the node fails, saying what was expected and what came back. Except that
// a 400 or 422 on an operation whose body SPEC §6 leaves to the backend
// (BackendShaped) means the backend takes another shape, not that it is
// broken: the node is skipped, so what it would have measured is reported
// not measured with this reason, never failed on the harness's request.
// Our own engine defines those shapes (docs/events.md, its OpenAPI
// document): there such a refusal fails like any other.
func Accepted(r scenarios.Reply, what string, args ...any) {
	if r.OK() {
		return
	}
	w := fmt.Sprintf(what, args...)
	if BackendShaped(r.Op.Kind) && (r.Status == http.StatusBadRequest || r.Status == http.StatusUnprocessableEntity) &&
		!target.ConfigFromEnv().Kind.OwnEngine() {
		ginkgo.Skip(fmt.Sprintf("not measured: %s was refused %d %s. SPEC §6 leaves the request bodies of pools, missions and "+
			"collaborations to the backend (\"document them\") and this workload sends our engine's; what it would have measured is not measured",
			w, r.Status, truncate(string(r.Raw), 240)))
	}
	ginkgo.Fail(fmt.Sprintf("%s must be acknowledged; it answered %d %s", w, r.Status, truncate(string(r.Raw), 400)), 1)
}
