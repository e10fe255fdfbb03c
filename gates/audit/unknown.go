package audit

// CheckUnknownEntity is the check ID and title CheckUnknownEntities records under.
const CheckUnknownEntity = "B50 every per-entity read answers 404 for an id nobody created"

// UnknownRead is one GET of an entity that was never created.
type UnknownRead struct {
	Path   string
	Status int // 0: no answer
	Body   string
}

// CheckUnknownEntities: SPEC §6 — an unknown entity is a 404, on every
// route that reads one (a balance, a history, a synergie account, an
// approval, a pool, a mission), never a 200 with an empty or zero view
// (which tells a client the entity exists) nor a 5xx.
func CheckUnknownEntities(reads []UnknownRead) Finding {
	var v violations
	for _, r := range reads {
		if r.Status != 404 {
			v.add("GET %s answered %d, want 404: %.160s", r.Path, r.Status, r.Body)
		}
	}
	return v.finding(CheckUnknownEntity, countMeasured(&v, len(reads), "reads"), "0",
		"one GET per served per-entity read route, of an id never created")
}
