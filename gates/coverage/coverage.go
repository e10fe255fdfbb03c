package coverage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Check names as the gates record them. A name with <placeholders> is
// composed at run time (e.g. one per KARMA mode); its literal parts must
// occur in the gate sources.
const (
	a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = "A1 every line parses and passes its checksum", "A2 seq is gapless and strictly increasing",
		"A3 schema_version >= 1", "A4 correlation_id is non-empty", "A5 causation_id names an earlier event", "A6 event_id is unique",
		"A7 each idempotency key appears at most once", "A8 acknowledged ops are journaled once, refused never, nothing unrequested",
		"A9 acknowledged ops and retries name the original event", "A10 multi-event commands are complete and contiguous"
	b1, b2, b3, b4, b5, b6, b7, b8, b9, b10 = "B1 balances equal the reference fold", "B2 ledgers equal the reference fold",
		"B3 approvals equal the reference fold", "B4 synergie totals equal the reference fold", "B5 no balance is ever negative",
		"B6 no NaN/Inf in any line; money fields are integers", "B7 balance_after_milli equals the running balance",
		"B8 at most one terminal decision; an approval executes exactly once",
		"B9 synergie cap holds and reward_capped equals what was withheld", "B10 every event folds"
	b11 = "B11 derived amounts equal the documented formulas (agent allocation, mission estimate/refund, synergie reward, KARMA fallback, risk level, EoC)"
	b12 = "B12 GET /balance/{id}, /pools/{id}, /missions/{id} and /approvals/{id} equal the reference fold"

	authzLeaks        = "authz: route × role cells reaching a handler the role may not use"
	authz5xx          = "authz: route × role cells answering 5xx"
	authzState        = "authz: the refused matrix changed no state (digest and seq)"
	moneyUnreferenced = "money: add and unreferenced refunds at or above the threshold are gated or refused"
	moneyPoolClose    = "money: pool refund then close pays no agent at or above the threshold"
	exposure          = "exposure: no-auth creditd on 0.0.0.0 refuses to start"

	powerCutLost   = "power cut: acknowledged mutations lost"
	fullDisk503    = "full disk: answered 503, never 500"
	fullDiskSticky = "full disk: refusal sticky after space is freed"
	fullDiskLost   = "full disk: acknowledged events lost"

	retryClean      = "retry after a clean restart returns the original event and writes nothing"
	retryKill       = "retry after kill -9 and replay returns the original event and writes nothing"
	retryConflict   = "same key with a different body is 409 idempotency_key_conflict and writes nothing"
	hotSpot         = "consumes accepted from one agent at once"
	hotSpotFinal    = "final balance after the race"
	digestClean     = "digest after clean restart"
	digestKill      = "digest after kill -9 + replay"
	synergieCap     = "agents above 500 credits from synergie in team "
	synergieDup     = "repeated collaboration ids wrote nothing"
	withdrawRace    = "money path withdraw: concurrent withdrawals accept exactly ⌊balance/amount⌋ and never overdraw"
	poolConsume     = "money path pool consume: concurrent pool consumes accept exactly ⌊pool/amount⌋ and never overdraw"
	poolTransfer    = "money path pool transfer: concurrent transfers accept exactly ⌊pool/amount⌋, never overdraw, and the target receives every one"
	missionRace     = "money path mission start: concurrent starts accept exactly ⌊balance/estimate⌋ and never overdraw"
	poolAllocate    = "money path pool allocate: concurrent allocations are all applied (no lost update)"
	mixedRace       = "money paths mixed: consume, withdraw and mission start racing on one agent never overdraw nor refuse spuriously"
	eocAnomalies    = "EoC: a window full of anomalies is journaled and its score follows the documented formula (anomaly weight 0.08)"
	fallbackUsed    = "KARMA blackout: rewards and consumes recorded with karma_source fallback (formulas checked in B11)"
	readYourWrites  = "read-your-writes: GET /balance/{id} right after an acknowledged write shows it"
	deepPaging      = "history paging beyond the in-memory ledger window equals the journal fold entry by entry"
	eventsRoute     = "GET /events pages equal the journal file byte for byte"
	metricsRoutes   = "GET /api/credits/metrics and /metrics report the journal's last seq"
	probes          = "GET /livez, /readyz, /api/health, /api/credits/health and /info answer 200 on a healthy backend"
	openapiRoute    = "GET /openapi.json is a JSON OpenAPI document with paths"
	statusRoutes    = "GET /karma/status, /eoc and /journal/verify answer their documented fields"
	badInput        = "bad input is a 4xx with code and detail, never a 5xx, and writes nothing"
	poolMembership  = "pool membership: members added and removed show in GET /pools/{id}; a removed member cannot consume"
	missionRating   = "mission rating: POST /missions/{id}/rate records the rating and refuses one outside 0..1"
	origShapes      = "original response shapes (SPEC §6 table): every field a client of the original reads, with its JSON type"
	oneWinner       = "<label>: requests with exactly one winner"
	losersNamed     = "<label>: every loser got already_decided naming the winner"
	auditListed     = "<label>: decision event ids missing from the audit"
	effectOnce      = "<label>: credit effect applied once per approval"
	selfApproval    = "self-approval refused"
	risk50k         = "risk level of 50,000 credits"
	risk5k          = "risk level of 5,000 credits"
	noJustification = "approval without justification refused"
	sameApprover    = "the same approver twice is refused"
	secondApprover  = "second distinct approver approves"
	executedOnce    = "executed exactly once after two approvers"
	expiryRefused   = "decision after expiry refused"
	expiredState    = "request state after expiry"
	crashDecided    = "every request decided exactly once after recovery"
	karmaOK         = "KARMA <mode>: consumes succeeded"
	karmaAlive      = "KARMA <mode>: backend alive"
	karmaFallback   = "KARMA <mode>: fallback recorded"
	karmaDegraded   = "KARMA <mode>: health degraded during the outage"
	karmaRecovered  = "KARMA <mode>: health recovered by itself"
	anomalyBlocked  = "anomalous consumes blocked"
	anomalyFlagged  = "anomalous consumes flagged"
	anomalyReplay   = "an agent's norm survives kill -9 + replay: a consume at 10× it is flagged, a normal one is not"
	eocReplay       = "GET /eoc is identical after kill -9 + replay (score, band, state, regulation)"
	eocBand         = "EoC score within the safe band"
	eocBounds       = "EoC score never outside 0.1–0.9"
	noSpiral        = "backpressure from anomalies alone (throttle spiral)"
	corruptLost     = "<corruption>: acknowledged events lost beyond the destroyed lines"
	corruptNamed    = "<corruption>: damage reported by /journal/verify"
	corruptHealth   = "<corruption>: health after repair"
	corruptAppend   = "<corruption>: first append after recovery survives a restart"
	healthJournal   = "health reports the journal state"
	fullDiskNoAck   = "journal failure: no write is acknowledged once the journal cannot append"
	healthFailed    = "journal failure: health reports the journal failed (status failed, HTTP 503)"
	sticky          = "journal failure is sticky: appends stay refused after space returns (no fsync retry)"
	ackedAfterFail  = "journal failure: after a restart every acknowledged write is journaled, none refused"
	p95             = "P95 overall"
	achievedRate    = "achieved rate"
	rssTrend        = "memory trend (RSS"
	goroutinesFlat  = "goroutines flat"
	fdsFlat         = "file descriptors flat"
)

// Routes maps every OpenAPI route ("METHOD /path") to the checks that
// exercise it.
var Routes = map[string][]string{
	"POST /api/credits/agents":                          {a8, b11, badInput},
	"POST /api/credits/consume":                         {hotSpot, mixedRace, a9},
	"POST /api/credits/refund":                          {b1, b2, retryClean},
	"POST /api/credits/add":                             {a8, readYourWrites, retryClean},
	"POST /api/credits/withdraw":                        {withdrawRace, mixedRace, retryKill},
	"GET /api/credits/balance/{agent_id}":               {b12, readYourWrites},
	"GET /api/credits/balances":                         {b1},
	"GET /api/credits/history/{agent_id}":               {b2, deepPaging},
	"POST /api/credits/approvals":                       {b3, oneWinner, retryConflict},
	"GET /api/credits/approvals":                        {b3},
	"GET /api/credits/approvals/audit":                  {auditListed},
	"GET /api/credits/approvals/{id}":                   {b12},
	"POST /api/credits/approvals/{id}/approve":          {oneWinner, secondApprover, b8},
	"POST /api/credits/approvals/{id}/reject":           {oneWinner, losersNamed, b3},
	"POST /api/credits/synergie/collaborations":         {b9, b11, synergieDup},
	"GET /api/credits/synergie/{agent_id}":              {b4},
	"POST /api/credits/pools":                           {poolMembership, b12},
	"GET /api/credits/pools/{id}":                       {b12, poolMembership},
	"POST /api/credits/pools/{id}/members":              {poolMembership},
	"DELETE /api/credits/pools/{id}/members/{agent_id}": {poolMembership},
	"POST /api/credits/pools/{id}/allocate":             {poolAllocate, retryKill},
	"POST /api/credits/pools/{id}/consume":              {poolConsume},
	"POST /api/credits/pools/{id}/refund":               {b7, b12},
	"POST /api/credits/pools/{id}/transfer":             {poolTransfer},
	"POST /api/credits/pools/{id}/close":                {b7, b12},
	"POST /api/credits/missions":                        {missionRace, b11},
	"GET /api/credits/missions/{id}":                    {b12, missionRating},
	"POST /api/credits/missions/{id}/complete":          {b11, b12},
	"POST /api/credits/missions/{id}/fail":              {b11, b12},
	"POST /api/credits/missions/{id}/cancel":            {b11, b12},
	"POST /api/credits/missions/{id}/rate":              {missionRating, b12},
	"GET /api/credits/eoc":                              {eocBand, statusRoutes},
	"GET /api/credits/karma/status":                     {statusRoutes},
	"GET /api/credits/events":                           {eventsRoute},
	"GET /api/credits/digest":                           {digestClean, digestKill},
	"GET /api/credits/journal/verify":                   {corruptNamed, statusRoutes},
	"GET /api/credits/health":                           {healthFailed, karmaDegraded, probes},
	"GET /api/credits/info":                             {probes},
	"GET /api/credits/metrics":                          {metricsRoutes},
	"GET /api/credits/openapi.json":                     {openapiRoute},
	"GET /api/health":                                   {probes},
	"GET /livez":                                        {probes},
	"GET /readyz":                                       {probes},
	"GET /metrics":                                      {metricsRoutes},
}

// Rule is one SPEC rule and the checks that exercise it.
type Rule struct {
	ID     string // SPEC section and a short name
	Text   string
	Checks []string
}

// Rules are the rules of SPEC §1–§6 a backend must keep.
var Rules = []Rule{
	{"§1 exact", "balances are exact milli-credit sums of their signed deltas", []string{b1, b6, b7}},
	{"§1 input", "≤ 3 decimals; NaN, ±Inf, non-numbers, zero, negative, above the maximum → 422", []string{badInput}},
	{"§1 three decimals", "amounts with three decimals cross every path unrounded", []string{withdrawRace, poolTransfer, b11, deepPaging}},
	{"§2 envelope", "envelope fields, schema_version ≥ 1, correlation_id, unique event_id", []string{a3, a4, a6}},
	{"§2 causation", "derived events name their cause; multi-event commands complete", []string{a5, a10}},
	{"§3 durability", "a mutation is acknowledged only once its line is synced; a power cut loses nothing acknowledged", []string{a8, corruptLost, powerCutLost}},
	{"§3 sticky errors", "after a failed write every append is refused (503), health reports the journal failed", []string{fullDiskNoAck, healthFailed, sticky, ackedAfterFail, fullDisk503, fullDiskSticky, fullDiskLost}},
	{"§3 idempotent retry", "same key + same request → the original result, nothing written", []string{a9}},
	{"§3 key conflict", "same key + different request → 409 idempotency_key_conflict", []string{retryConflict}},
	{"§3 keys survive restarts", "keys are rebuilt from the journal", []string{retryClean, retryKill}},
	{"§3 concurrent duplicates", "the same key in flight twice → one event", []string{a7}},
	{"§3 checksum", "a per-line checksum; a flipped bit is detected", []string{a1, a2}},
	{"§3 torn tail", "a torn tail is cut, kept in a sidecar, appends continue on a clean line", []string{corruptAppend, corruptLost}},
	{"§3 quarantine", "mid-file corruption is quarantined and reported, never silent", []string{corruptNamed, corruptHealth}},
	{"§4 never negative", "no balance below zero after any event", []string{b5, hotSpotFinal}},
	{"§4 ledger paged", "ledger newest first, paged; older pages from the journal", []string{deepPaging, b2}},
	{"§4 reads current", "reads reflect every acknowledged write", []string{readYourWrites, b12}},
	{"§4 projections", "approvals, synergie, pools, missions as folds of the journal", []string{b3, b4, b12}},
	{"§4 digest", "the state digest is unchanged by replay", []string{digestClean, digestKill}},
	{"§5 agents", "creating allocates round(skill × 100); an existing agent is 409", []string{b11, badInput}},
	{"§5 consume", "consume never overdraws at any concurrency; 409 with the balance; unknown agent 404", []string{hotSpot, mixedRace, badInput}},
	{"§5 every money path", "withdraw, pool consume/transfer, mission start never overdraw; allocations never lost", []string{withdrawRace, poolConsume, poolTransfer, missionRace, poolAllocate}},
	{"§5 risk levels", "threshold and MEDIUM/HIGH/CRITICAL by amount; approvers required", []string{b11, risk50k, risk5k}},
	{"§5 four eyes", "the requester may not approve; CRITICAL needs two distinct approvers with justification", []string{selfApproval, sameApprover, secondApprover, noJustification}},
	{"§5 first decision wins", "one terminal decision; later ones 409 already_decided", []string{oneWinner, losersNamed, b8, crashDecided}},
	{"§5 executes once", "an approval executes its action exactly once", []string{b8, executedOnce, effectOnce}},
	{"§5 expiry", "expired requests refuse decisions and never execute", []string{expiryRefused, expiredState}},
	{"§5 synergie reward", "base × contribution × (0.5 + KARMA), floored", []string{b11}},
	{"§5 synergie cap", "at most the cap per agent and team; reward_capped records the rest", []string{b9, synergieCap}},
	{"§5 synergie duplicates", "a repeated collaboration id writes nothing; a team < 2 is 422", []string{synergieDup, badInput}},
	{"§5 KARMA never fails", "a KARMA outage never fails or stalls an operation", []string{karmaOK, karmaAlive}},
	{"§5 KARMA fallback", "cache, else the fallback CI 0.5, recorded as karma_source", []string{b11, karmaFallback, fallbackUsed}},
	{"§5 KARMA health", "health degraded during a blackout, recovers by itself", []string{karmaDegraded, karmaRecovered}},
	{"§5 anomalies", "anomalous consumes are flagged, never blocked; the norm is a fold, so it survives replay", []string{anomalyBlocked, anomalyFlagged, anomalyReplay}},
	{"§5 EoC", "documented formula; 0.3–0.7 under anomaly chaos, never outside 0.1–0.9; no throttle spiral", []string{b11, eocAnomalies, eocBand, eocBounds, noSpiral, eocReplay}},
	{"§5 pools", "members only consume; no overdraft; close refunds the remainder", []string{poolMembership, poolConsume, b7}},
	{"§5 missions", "estimate by type × complexity × (1 − 0.3 skill); complete/fail/cancel refunds by formula", []string{b11, missionRace, missionRating}},
	{"§6 errors", "uniform {detail, code}; 400/404/409/422; never 500 for bad input", []string{badInput}},
	{"§6 journal over HTTP", "GET /events returns the journal lines byte for byte", []string{eventsRoute}},
	{"§6 OpenAPI", "an OpenAPI document is shipped", []string{openapiRoute}},
	{"§6 original shapes", "every field a client of the original reads (SPEC §6 table) keeps its name and JSON type", []string{origShapes}},
	{"§6 auth", "roles per route (reader, operator, service, approver, admin), 401/403 otherwise; no credit path above the threshold without approval",
		[]string{authzLeaks, authz5xx, authzState, moneyUnreferenced, moneyPoolClose}},
	{"§6 exposure", "without tokens creditd refuses a non-loopback address", []string{exposure}},
	{"§6 health", "liveness, readiness and health endpoints tell the truth", []string{probes, healthJournal, healthFailed}},
	{"§8/§9 load", "P95 < 500 ms at the target rate; no leak of memory, goroutines or fds", []string{p95, achievedRate, rssTrend, goroutinesFlat, fdsFlat}},
}

// Gaps are rules no blocking check guards yet, each measured by a named
// report entry and listed in docs/gates.md with the reason: a decision for
// the lead, not an oversight. `creditgate gates` prints them.
var Gaps = []Rule{}

// OpenAPIRoutes reads "METHOD /path" of every operation in an OpenAPI
// document.
func OpenAPIRoutes(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	for p, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "post", "put", "patch", "delete":
				out = append(out, strings.ToUpper(m)+" "+p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

var placeholder = regexp.MustCompile(`<[^>]+>`)

// literalParts splits a check name at its placeholders.
func literalParts(name string) []string {
	var out []string
	for _, p := range placeholder.Split(name, -1) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// GateSources concatenates the gate sources a check name must occur in.
func GateSources(root string) (string, error) {
	var sb strings.Builder
	for _, dir := range []string{"a", "b", "c", "d", "e", "audit"} {
		files, err := filepath.Glob(filepath.Join(root, "gates", dir, "*.go"))
		if err != nil {
			return "", err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			sb.Write(b)
			sb.WriteByte('\n')
		}
	}
	return sb.String(), nil
}

// Problems lists what is not covered: OpenAPI routes without a check,
// mapped routes missing from the document, rules without a check, and
// named checks that do not exist in the gate sources. root is the
// repository root.
func Problems(root string) ([]string, error) {
	routes, err := OpenAPIRoutes(filepath.Join(root, "engine", "httpapi", "openapi.json"))
	if err != nil {
		return nil, err
	}
	src, err := GateSources(root)
	if err != nil {
		return nil, err
	}
	var out []string
	inDoc := map[string]bool{}
	for _, r := range routes {
		inDoc[r] = true
		if len(Routes[r]) == 0 {
			out = append(out, "route not covered: "+r)
		}
	}
	names := map[string]bool{}
	for _, r := range sortedKeys(Routes) {
		if !inDoc[r] {
			out = append(out, "mapped route not in the OpenAPI document: "+r)
		}
		for _, c := range Routes[r] {
			names[c] = true
		}
	}
	for _, r := range Rules {
		if len(r.Checks) == 0 {
			out = append(out, "rule not covered: "+r.ID)
		}
		for _, c := range r.Checks {
			names[c] = true
		}
	}
	for _, r := range Gaps {
		if r.Text == "" {
			out = append(out, "known gap without a reason: "+r.ID)
		}
		for _, c := range r.Checks {
			names[c] = true
		}
	}
	for _, n := range sortedKeys(names) {
		for _, part := range literalParts(n) {
			if !strings.Contains(src, part) {
				out = append(out, fmt.Sprintf("check %q does not exist in the gate sources (%q not found)", n, part))
				break
			}
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Markdown renders the map: routes, then rules.
func Markdown() string {
	var sb strings.Builder
	cell := func(cs []string) string {
		q := make([]string, len(cs))
		for i, c := range cs {
			q[i] = "`" + strings.ReplaceAll(c, "|", `\|`) + "`"
		}
		return strings.Join(q, "<br>")
	}
	sb.WriteString("| route (OpenAPI) | checks |\n|---|---|\n")
	for _, r := range sortedKeys(Routes) {
		fmt.Fprintf(&sb, "| `%s` | %s |\n", r, cell(Routes[r]))
	}
	sb.WriteString("\n| rule (SPEC) | | checks |\n|---|---|---|\n")
	for _, r := range Rules {
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", r.ID, strings.ReplaceAll(r.Text, "|", `\|`), cell(r.Checks))
	}
	if len(Gaps) == 0 {
		sb.WriteString("\n**Known gaps**: none — every route and rule above has a blocking check.\n")
		return sb.String()
	}
	sb.WriteString("\n**Known gaps** (no blocking check; a decision, printed by `creditgate gates`):\n\n| rule (SPEC) | why | measured by |\n|---|---|---|\n")
	for _, r := range Gaps {
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", r.ID, strings.ReplaceAll(r.Text, "|", `\|`), cell(r.Checks))
	}
	return sb.String()
}

// Doc markers of the generated section in docs/gates.md.
const (
	BeginMarker = "<!-- coverage-map:begin (generated by `go test ./gates/coverage -update`; do not edit) -->"
	EndMarker   = "<!-- coverage-map:end -->"
)

// Splice replaces the generated section of a document (appending it when
// absent) and returns the new text.
func Splice(doc string) string {
	section := BeginMarker + "\n" + Markdown() + EndMarker
	i, j := strings.Index(doc, BeginMarker), strings.Index(doc, EndMarker)
	if i < 0 || j < i {
		return strings.TrimRight(doc, "\n") + "\n\n" + section + "\n"
	}
	return doc[:i] + section + doc[j+len(EndMarker):]
}
