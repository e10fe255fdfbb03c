package specbackend

// requestBodies are the members each route's JSON body may hold besides
// idempotency_key, by "METHOD path" as in the route table: the handlers
// decode with them (anything else is 400 unknown_field) and the OpenAPI
// document publishes them, so what is documented is what is accepted.
var requestBodies = map[string][]string{
	"POST " + api + "/agents":                               {"agent_id", "skill_level", "actor_id"},
	"POST " + api + "/consume":                              {"agent_id", "amount", "reason", "actor_id", "mission_id"},
	"POST " + api + "/refund":                               {"agent_id", "amount", "reason", "actor_id", "mission_id"},
	"POST " + api + "/add":                                  {"agent_id", "amount", "reason", "actor_id", "mission_id", "justification"},
	"POST " + api + "/withdraw":                             {"agent_id", "amount", "reason", "actor_id", "justification"},
	"POST " + api + "/approvals":                            {"action_type", "agent_id", "amount", "reason", "justification", "requester_id", "actor_id"},
	"POST " + api + "/approvals/{request_id}/approve":       {"approver_id", "justification", "reason", "expected_version", "actor_id"},
	"POST " + api + "/approvals/{request_id}/reject":        {"approver_id", "justification", "reason", "expected_version", "actor_id"},
	"POST " + api + "/synergie/collaborations":              {"collaboration_id", "team_id", "mission_id", "agent_ids", "contribution_scores", "actor_id"},
	"POST " + api + "/pools":                                {"pool_id", "name", "actor_id"},
	"POST " + api + "/pools/{pool_id}/members":              {"agent_id", "actor_id"},
	"DELETE " + api + "/pools/{pool_id}/members/{agent_id}": {"actor_id"},
	"POST " + api + "/pools/{pool_id}/allocate":             {"amount", "from_agent_id", "reason", "actor_id"},
	"POST " + api + "/pools/{pool_id}/consume":              {"agent_id", "amount", "reason", "actor_id"},
	"POST " + api + "/pools/{pool_id}/refund":               {"agent_id", "amount", "reason", "actor_id"},
	"POST " + api + "/pools/{pool_id}/transfer":             {"to_pool_id", "amount", "reason", "actor_id"},
	"POST " + api + "/pools/{pool_id}/close":                {"agent_id", "reason", "actor_id"},
	"POST " + api + "/missions":                             {"mission_id", "agent_id", "mission_type", "complexity", "actor_id"},
	"POST " + api + "/missions/{mission_id}/complete":       {"actual_cost", "actor_id"},
	"POST " + api + "/missions/{mission_id}/fail":           {"refund_percentage", "reason", "actor_id"},
	"POST " + api + "/missions/{mission_id}/cancel":         {"reason", "actor_id"},
}

// memberSchema is the OpenAPI schema of one body member.
func memberSchema(name string) map[string]any {
	switch name {
	case "amount", "actual_cost", "refund_percentage", "skill_level":
		return map[string]any{"type": "number"}
	case "expected_version":
		return map[string]any{"type": "integer"}
	case "agent_ids":
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	case "contribution_scores":
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "number"}}
	}
	return map[string]any{"type": "string"}
}
