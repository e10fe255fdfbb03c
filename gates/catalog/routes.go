package catalog

// Routes as the OpenAPI document names them ("METHOD /path"). The first
// block is the original system's (SPEC §6, first table): the smallest
// backend the gates judge.
const (
	Health     = "GET /api/credits/health"
	Info       = "GET /api/credits/info"
	Agents     = "POST /api/credits/agents"
	Consume    = "POST /api/credits/consume"
	Refund     = "POST /api/credits/refund"
	Add        = "POST /api/credits/add"
	Balance    = "GET /api/credits/balance/{agent_id}"
	Balances   = "GET /api/credits/balances"
	History    = "GET /api/credits/history/{agent_id}"
	MetricsAPI = "GET /api/credits/metrics"
	APIHealth  = "GET /api/health"

	Withdraw          = "POST /api/credits/withdraw"
	ApprovalRequest   = "POST /api/credits/approvals"
	ApprovalList      = "GET /api/credits/approvals"
	ApprovalAudit     = "GET /api/credits/approvals/audit"
	ApprovalGet       = "GET /api/credits/approvals/{id}"
	Approve           = "POST /api/credits/approvals/{id}/approve"
	Reject            = "POST /api/credits/approvals/{id}/reject"
	Collaborations    = "POST /api/credits/synergie/collaborations"
	Synergie          = "GET /api/credits/synergie/{agent_id}"
	PoolCreate        = "POST /api/credits/pools"
	PoolGet           = "GET /api/credits/pools/{id}"
	PoolMemberAdd     = "POST /api/credits/pools/{id}/members"
	PoolMemberRemove  = "DELETE /api/credits/pools/{id}/members/{agent_id}"
	PoolAllocate      = "POST /api/credits/pools/{id}/allocate"
	PoolConsume       = "POST /api/credits/pools/{id}/consume"
	PoolRefund        = "POST /api/credits/pools/{id}/refund"
	PoolTransfer      = "POST /api/credits/pools/{id}/transfer"
	PoolClose         = "POST /api/credits/pools/{id}/close"
	MissionStart      = "POST /api/credits/missions"
	MissionGet        = "GET /api/credits/missions/{id}"
	MissionComplete   = "POST /api/credits/missions/{id}/complete"
	MissionFail       = "POST /api/credits/missions/{id}/fail"
	MissionCancel     = "POST /api/credits/missions/{id}/cancel"
	MissionRate       = "POST /api/credits/missions/{id}/rate"
	EoC               = "GET /api/credits/eoc"
	KarmaStatus       = "GET /api/credits/karma/status"
	Events            = "GET /api/credits/events"
	Digest            = "GET /api/credits/digest"
	JournalVerify     = "GET /api/credits/journal/verify"
	OpenAPI           = "GET /api/credits/openapi.json"
	Livez             = "GET /livez"
	Readyz            = "GET /readyz"
	MetricsPrometheus = "GET /metrics"
)

// OriginalRoutes are the routes of the original system (SPEC §6).
var OriginalRoutes = []string{Health, Info, Agents, Consume, Refund, Add, Balance, Balances, History, MetricsAPI, APIHealth}

// AllRoutes lists every route the catalog knows, the original's first.
var AllRoutes = append(append([]string(nil), OriginalRoutes...),
	Withdraw, ApprovalRequest, ApprovalList, ApprovalAudit, ApprovalGet, Approve, Reject, Collaborations, Synergie,
	PoolCreate, PoolGet, PoolMemberAdd, PoolMemberRemove, PoolAllocate, PoolConsume, PoolRefund, PoolTransfer, PoolClose,
	MissionStart, MissionGet, MissionComplete, MissionFail, MissionCancel, MissionRate,
	EoC, KarmaStatus, Events, Digest, JournalVerify, OpenAPI, Livez, Readyz, MetricsPrometheus)

// rs is shorthand for a route list in the entries.
func rs(r ...string) []string { return r }
