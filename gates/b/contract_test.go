package b_test

// The rest of the HTTP contract no scenario reaches on its own: the read and
// operations routes answer what SPEC §6 says (the journal over GET /events
// byte for byte, metrics that agree with the journal, the OpenAPI document
// listing every route), bad input is a 4xx that names the problem and writes
// nothing, pool membership gates pool consumes, a mission's rating is
// recorded, and the original's routes keep its response shapes (SPEC §6
// table) — judged on the original's routes alone, so a backend that serves
// nothing else is measured too.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
)

var _ = Describe("Gate B: the rest of the HTTP contract", Ordered, ContinueOnFailure, harness.Checks(ids(foldIDs, []string{"B38", "B39", "B40", "B41", "B42", "B43", "B44", "B45", "B46", "B50", "B52"})...), func() {
	var env *harness.Env
	var agent string
	var agentWhy string // why there is no agent, when there is none

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", nil)
		env.OutDir = filepath.Join(env.OutDir, "contract")
		harness.Ensure(os.MkdirAll(env.OutDir, 0o755) == nil, "the out dir %s must be writable", env.OutDir)
		if !env.Routes.Has(catalog.Agents) {
			agentWhy = catalog.Agents + " not served"
			return
		}
		agent = env.ID("ct-agent")
		err := env.C.CreateAgent(ctx, agent, 100)
		harness.Ensure(err == nil, "creating agent %s with 100 credits must succeed: %v", agent, err)
	}, NodeTimeout(time.Minute))

	decode := func(raw []byte) map[string]any {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var doc map[string]any
		_ = dec.Decode(&doc)
		return doc
	}
	post := func(ctx context.Context, method, path, key string, body any) scenarios.Reply {
		return env.C.Do(ctx, scenarios.Call{Method: method, Path: "/api/credits" + path, Key: key, Body: body})
	}
	// poolOf reads a pool's balance and members ("" when it cannot be read).
	poolOf := func(ctx context.Context, pool string) (balance string, members []string) {
		r := env.C.Get(ctx, "/api/credits/pools/"+pool)
		if !r.OK() {
			return fmt.Sprintf("GET /pools/%s answered %d", pool, r.Status), nil
		}
		doc := decode(r.Raw)
		if ms, ok := doc["members"].([]any); ok {
			for _, m := range ms {
				members = append(members, fmt.Sprint(m))
			}
		}
		return fmt.Sprint(doc["balance"]), members
	}

	It("bad input is refused with a 4xx naming the problem, and writes nothing", Label("critical"), func(ctx SpecContext) {
		env.Require("B38")
		pool, poolWhy := env.ID("ct-badpool"), ""
		switch {
		case !env.Routes.Has(catalog.PoolCreate):
			poolWhy = catalog.PoolCreate + " not served"
		default:
			if r := post(ctx, "POST", "/pools", "ct-badpool", map[string]any{"pool_id": pool, "members": []string{agent}}); !r.OK() {
				poolWhy = fmt.Sprintf("POST /pools answered %d %.200s", r.Status, r.Raw)
			}
		}
		before, how, stateOK := env.StateOf(ctx)
		n := func(s string) json.Number { return json.Number(s) }
		cases := []struct {
			name, route, method, path string
			body                      any
			status                    int
			code                      string
			pool                      bool // needs the pool fixture
		}{
			{"four decimals", catalog.Consume, "POST", "/consume", map[string]any{"agent_id": agent, "amount": n("1.2345"), "reason": "x"}, 422, "", false},
			{"zero amount", catalog.Refund, "POST", "/refund", map[string]any{"agent_id": agent, "amount": 0, "reason": "x"}, 422, "", false},
			{"negative amount", catalog.Withdraw, "POST", "/withdraw", map[string]any{"agent_id": agent, "amount": -1, "reason": "x"}, 422, "", false},
			{"amount as a string NaN", catalog.Consume, "POST", "/consume", map[string]any{"agent_id": agent, "amount": "NaN", "reason": "x"}, 0, "", false},
			{"amount above the maximum", catalog.Consume, "POST", "/consume", map[string]any{"agent_id": agent, "amount": n("1e12"), "reason": "x"}, 422, "", false},
			{"unknown JSON field", catalog.Consume, "POST", "/consume", map[string]any{"agent_id": agent, "amount": 1, "reason": "x", "amunt": 1}, 0, "", false},
			{"unknown agent", catalog.Consume, "POST", "/consume", map[string]any{"agent_id": env.ID("ct-nobody"), "amount": 1, "reason": "x"}, 404, "", false},
			{"overdraft", catalog.Consume, "POST", "/consume", map[string]any{"agent_id": agent, "amount": 100000, "reason": "x"}, 409, "insufficient_credits", false},
			{"existing agent", catalog.Agents, "POST", "/agents", map[string]any{"agent_id": agent, "skill_level": 0.5}, 409, "agent_exists", false},
			{"skill above 1", catalog.Agents, "POST", "/agents", map[string]any{"agent_id": env.ID("ct-skill"), "skill_level": 1.5}, 422, "", false},
			{"team of one", catalog.Collaborations, "POST", "/synergie/collaborations", map[string]any{"collaboration_id": env.ID("ct-c"), "team_id": "t",
				"agent_ids": []string{agent, agent}, "contribution_scores": map[string]float64{agent: 1}}, 422, "", false},
			{"end an unknown mission", catalog.MissionComplete, "POST", "/missions/" + env.ID("ct-nomission") + "/complete", map[string]any{"actual_cost": 1}, 404, "", false},
			{"transfer to the same pool", catalog.PoolTransfer, "POST", "/pools/" + pool + "/transfer", map[string]any{"to_pool_id": pool, "amount": 1, "reason": "x"}, 0, "", true},
			{"pool overdraft", catalog.PoolConsume, "POST", "/pools/" + pool + "/consume", map[string]any{"agent_id": agent, "amount": 1, "reason": "x"}, 409, "insufficient_credits", true},
			{"approval of an unknown action", catalog.ApprovalRequest, "POST", "/approvals", map[string]any{"action_type": "steal", "agent_id": agent, "amount": 600, "reason": "x"}, 422, "", false},
		}
		var bad, na []string
		judged := 0
		for i, c := range cases {
			switch {
			case !env.Routes.Has(c.route):
				na = append(na, c.name+" ("+c.route+" not served)")
				continue
			case c.pool && poolWhy != "":
				na = append(na, c.name+" (no pool: "+poolWhy+")")
				continue
			}
			r := post(ctx, c.method, c.path, fmt.Sprintf("ct-bad-%d", i), c.body)
			doc := decode(r.Raw)
			detail, _ := doc["detail"].(string)
			code, _ := doc["code"].(string)
			if r.Status == 0 {
				bad = append(bad, fmt.Sprintf("%s: no answer: %v", c.name, r.Err))
				continue
			}
			judged++
			switch {
			case r.Status < 400 || r.Status >= 500:
				bad = append(bad, fmt.Sprintf("%s: %d %s", c.name, r.Status, strings.TrimSpace(string(r.Raw))))
			case c.status != 0 && r.Status != c.status:
				bad = append(bad, fmt.Sprintf("%s: %d, want %d (%s)", c.name, r.Status, c.status, detail))
			case c.code != "" && code != c.code:
				bad = append(bad, fmt.Sprintf("%s: code %q, want %q", c.name, code, c.code))
			case detail == "" || code == "":
				bad = append(bad, fmt.Sprintf("%s: %d without detail and code: %s", c.name, r.Status, r.Raw))
			}
			if c.code == "insufficient_credits" && !strings.Contains(string(r.Raw), "balance") {
				bad = append(bad, fmt.Sprintf("%s: insufficient_credits without the balance in the body: %s", c.name, r.Raw))
			}
		}
		// Malformed JSON cannot go through the recording client (it
		// marshals): send the bytes as they are.
		req, err := http.NewRequestWithContext(ctx, "POST", env.T.BaseURL()+"/api/credits/consume", strings.NewReader(`{"agent_id":`))
		harness.Ensure(err == nil, "building the malformed-JSON request: %v", err)
		req.Header.Set("Content-Type", "application/json")
		if tok := env.T.Token(); tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if resp, err := http.DefaultClient.Do(req); err != nil {
			bad = append(bad, "malformed JSON: no answer: "+err.Error())
		} else {
			resp.Body.Close()
			judged++
			if resp.StatusCode != 400 {
				bad = append(bad, fmt.Sprintf("malformed JSON: %d, want 400", resp.StatusCode))
			}
		}
		writes := "not judged: the state cannot be read (" + how + ")"
		if after, _, afterOK := env.StateOf(ctx); stateOK && afterOK {
			writes = "judged with " + how
			if after != before {
				bad = append(bad, fmt.Sprintf("the refusals changed the state (%s): %s → %s", how, before, after))
			}
		}
		detail := fmt.Sprintf("%d bad requests answered (%d cases and malformed JSON); writes nothing: %s", judged, len(cases)-len(na), writes)
		if len(na) > 0 {
			detail += fmt.Sprintf("; N/A (%d): %s", len(na), strings.Join(na, ", "))
		}
		env.Record("B38", harness.Measure{OK: len(bad) == 0, Samples: judged, Measured: len(bad), Threshold: 0,
			Detail: detail + "\n" + strings.Join(bad, "\n")})
	})

	It("pool membership is what the members routes say, and only members consume", Label("critical"), func(ctx SpecContext) {
		env.Require("B39")
		if agent == "" {
			env.Record("B39", harness.Measure{Detail: "no agent to make a member: " + agentWhy})
			return
		}
		other := env.ID("ct-other")
		err := env.C.CreateAgent(ctx, other, 100)
		harness.Ensure(err == nil, "creating agent %s must succeed: %v", other, err)
		pool := env.ID("ct-mpool")
		r := post(ctx, "POST", "/pools", "ct-mpool", map[string]any{"pool_id": pool, "members": []string{agent}})
		harness.Accepted(r, "creating pool %s", pool)
		if env.Routes.Has(catalog.PoolAllocate) {
			r = post(ctx, "POST", "/pools/"+pool+"/allocate", "ct-mpool-fund", map[string]any{"amount": json.Number("10.101"), "reason": "fund"})
			harness.Accepted(r, "funding pool %s with 10.101 credits", pool)
		}
		var bad []string
		judged := 0
		step := func(what string, r scenarios.Reply, ok bool) {
			if r.Status != 0 {
				judged++
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("%s: %d %s", what, r.Status, r.Raw))
			}
		}
		r = post(ctx, "POST", "/pools/"+pool+"/members", "ct-mpool-add", map[string]any{"agent_id": other})
		step("add member", r, r.OK())
		if _, ms := poolOf(ctx, pool); ms != nil {
			judged++
			if !strings.Contains(fmt.Sprint(ms), other) {
				bad = append(bad, fmt.Sprintf("GET /pools does not list the added member: %v", ms))
			}
		}
		r = post(ctx, "POST", "/pools/"+pool+"/consume", "ct-mpool-c1", map[string]any{"agent_id": other, "amount": json.Number("1.001"), "reason": "member"})
		step("consume by a member", r, r.OK())
		r = post(ctx, "DELETE", "/pools/"+pool+"/members/"+other, "ct-mpool-rm", nil)
		step("remove member", r, r.OK())
		balBefore, ms := poolOf(ctx, pool)
		if ms != nil {
			judged++
			if strings.Contains(fmt.Sprint(ms), other) {
				bad = append(bad, fmt.Sprintf("GET /pools lists the removed member: %v", ms))
			}
		}
		before, how, stateOK := env.StateOf(ctx)
		r = post(ctx, "POST", "/pools/"+pool+"/consume", "ct-mpool-c2", map[string]any{"agent_id": other, "amount": json.Number("1.001"), "reason": "not a member"})
		step("consume by a removed member", r, !r.OK() && r.Status < 500)
		if balAfter, _ := poolOf(ctx, pool); balAfter != balBefore {
			bad = append(bad, fmt.Sprintf("the refused consume moved the pool's balance: %s → %s", balBefore, balAfter))
		}
		if after, _, afterOK := env.StateOf(ctx); stateOK && afterOK && after != before {
			bad = append(bad, fmt.Sprintf("the refused consume changed the state (%s)", how))
		}
		env.Record("B39", harness.Measure{OK: len(bad) == 0, Samples: judged, Measured: len(bad), Threshold: 0,
			Detail: fmt.Sprintf("%d steps judged (add, list, member consume, remove, list, non-member consume); %s", judged, strings.Join(bad, "; "))})
	})

	It("a mission's rating is recorded, and one outside 0..1 is refused", Label("critical"), func(ctx SpecContext) {
		env.Require("B40")
		if agent == "" {
			env.Record("B40", harness.Measure{Detail: "no agent to run a mission: " + agentWhy})
			return
		}
		mid := env.ID("ct-rated")
		r := post(ctx, "POST", "/missions", "ct-rated", map[string]any{"mission_id": mid, "agent_id": agent, "mission_type": "deployment", "complexity": "low"})
		harness.Accepted(r, "starting mission %s", mid)
		r = post(ctx, "POST", "/missions/"+mid+"/complete", "ct-rated-end", map[string]any{"actual_cost": json.Number("2.468")})
		harness.Accepted(r, "completing mission %s", mid)
		ok := post(ctx, "POST", "/missions/"+mid+"/rate", "ct-rate", map[string]any{"rating": 0.75})
		refused := post(ctx, "POST", "/missions/"+mid+"/rate", "ct-rate-bad", map[string]any{"rating": 1.5})
		got := env.C.Get(ctx, "/api/credits/missions/"+mid)
		rating := decode(got.Raw)["rating"]
		judged := 0
		for _, r := range []scenarios.Reply{ok, refused, got} {
			if r.Status != 0 {
				judged++
			}
		}
		env.Record("B40", harness.Measure{OK: ok.OK() && refused.Status == 422 && fmt.Sprint(rating) == "0.75", Samples: judged,
			Measured: fmt.Sprintf("rate %d, bad rate %d, GET rating %v", ok.Status, refused.Status, rating), Threshold: "2xx, 422, 0.75",
			Detail: "a rating of 0.75, then 1.5, then GET /missions/{id}"})
	})

	It("every per-entity read route answers 404 for an id nobody created", Label("critical"), func(ctx SpecContext) {
		env.Require("B50")
		id := env.ID("never-created")
		var reads []audit.UnknownRead
		for _, route := range []string{catalog.Balance, catalog.History, catalog.Synergie, catalog.ApprovalGet, catalog.PoolGet, catalog.MissionGet} {
			if !env.Routes.Has(route) {
				continue
			}
			path := strings.TrimPrefix(route, "GET ")
			path = path[:strings.LastIndex(path, "{")] + id
			r := env.C.Get(ctx, path)
			reads = append(reads, audit.UnknownRead{Path: path, Status: r.Status, Body: string(r.Raw)})
		}
		env.RecordFinding(audit.CheckUnknownEntities(reads), "")
	})

	It("GET /events after a seq beyond every seq answers a 4xx or no event, never the stream from its start", Label("critical"), func(ctx SpecContext) {
		env.Require("B52")
		// SPEC §6: after_seq is a lower bound. Past int64 a store that casts
		// the number (PostgreSQL's bigint) wraps it to a negative seq and
		// exports from seq 1; a client resuming after it would take every
		// event again. 2^63−1 is a valid seq no journal reaches.
		var bad []string
		judged := 0
		for _, after := range []string{"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616", "1000000000000000000000000000000"} {
			r := env.C.Get(ctx, "/api/credits/events?after_seq="+after+"&limit=10")
			if r.Status == 0 {
				bad = append(bad, fmt.Sprintf("after_seq=%s: no answer (%v)", after, r.Err))
				continue
			}
			judged++
			switch {
			case r.Status >= 400 && r.Status < 500:
			case r.Status >= 200 && r.Status < 300:
				if lines := bytes.Count(bytes.TrimSpace(r.Raw), []byte("\n")) + 1; len(bytes.TrimSpace(r.Raw)) > 0 {
					bad = append(bad, fmt.Sprintf("after_seq=%s: %d answered %d line(s), first %.120s", after, r.Status, lines, r.Raw))
				}
			default:
				bad = append(bad, fmt.Sprintf("after_seq=%s: %d %.120s", after, r.Status, r.Raw))
			}
		}
		env.Record("B52", harness.Measure{OK: len(bad) == 0, Samples: judged, Measured: len(bad), Threshold: 0,
			Detail: "after_seq 2^63−1, 2^63, 2^64−1, 2^64 and 10^30 must each answer a 4xx or an empty stream; " + strings.Join(bad, "; ")})
	})

	It("the read and operations routes answer what SPEC §6 says", Label("critical"), func(ctx SpecContext) {
		env.Require("B41", "B42", "B43", "B44", "B45")
		// Journal over HTTP vs the file, byte for byte (small pages).
		if env.Applies("B41") {
			p := env.T.JournalPath()
			file, err := os.ReadFile(p)
			harness.Ensure(err == nil, "the journal file %s must be readable: %v", p, err)
			viaAPI, overfull, pageErr := env.EventsByPages(ctx, 7)
			env.Record("B41", harness.Measure{OK: bytes.Equal(file, viaAPI) && overfull == 0, Samples: bytes.Count(file, []byte("\n")),
				Measured:  fmt.Sprintf("%d bytes via the API, %d pages over the limit", len(viaAPI), overfull),
				Threshold: fmt.Sprintf("%d bytes in the file, no page over limit=7", len(file)),
				Detail:    "pages of 7 lines by after_seq, compared with the journal file" + pageErr})
		}
		if env.Applies("B42") {
			d := env.C.Get(ctx, "/api/credits/digest")
			last := fmt.Sprint(decode(d.Raw)["seq"])
			jr := env.C.Get(ctx, "/api/credits/metrics")
			journal, _ := decode(jr.Raw)["journal"].(map[string]any)
			prom := env.C.Get(ctx, "/metrics")
			judged := 0
			for _, r := range []scenarios.Reply{jr, prom} {
				if d.OK() && r.OK() {
					judged++
				}
			}
			inProm := strings.Contains(string(prom.Raw), "creditd_journal_seq "+last)
			if !env.TCfg.Kind.OwnEngine() && journal["seq"] == nil && !strings.Contains(string(prom.Raw), "creditd_journal_seq") {
				// The names are our engine's; SPEC §6 fixes neither.
				judged = 0
			}
			env.Record("B42", harness.Measure{OK: fmt.Sprint(journal["seq"]) == last && inProm, Samples: judged,
				Measured:  fmt.Sprintf("JSON journal.seq %v; Prometheus has creditd_journal_seq %s: %v", journal["seq"], last, inProm),
				Threshold: "both equal the digest's seq " + last,
				Detail: fmt.Sprintf("GET /digest %d, GET /api/credits/metrics %d, GET /metrics %d (our engine's names journal.seq and creditd_journal_seq: "+
					"another backend reporting neither is not measured)", d.Status, jr.Status, prom.Status)})
		}
		if env.Applies("B43") {
			var failed []string
			judged := 0
			for _, p := range []string{"/livez", "/readyz", "/api/health", "/api/credits/health", "/api/credits/info"} {
				r := env.C.Get(ctx, p)
				if r.Status != 0 {
					judged++
				}
				if r.Status != 200 {
					failed = append(failed, fmt.Sprintf("%s %d", p, r.Status))
				}
			}
			env.Record("B43", harness.Measure{OK: len(failed) == 0, Samples: judged, Measured: len(failed), Threshold: 0,
				Detail: strings.Join(failed, "; ")})
		}
		if env.Applies("B44") {
			r := env.C.Get(ctx, "/api/credits/openapi.json")
			oa := decode(r.Raw)
			paths, _ := oa["paths"].(map[string]any)
			judged := 0
			if r.Status != 0 {
				judged = 1
			}
			env.Record("B44", harness.Measure{OK: oa["openapi"] != nil && len(paths) > 20, Samples: judged, Measured: len(paths), Threshold: "> 20 paths",
				Detail: fmt.Sprintf("GET /api/credits/openapi.json answered %d", r.Status)})
		}
		if env.Applies("B45") {
			var missing []string
			judged := 0
			for _, rf := range []struct {
				path   string
				fields []string
			}{{"/api/credits/karma/status", []string{"state", "breaker", "fallback_count"}},
				{"/api/credits/eoc", []string{"score", "band"}}, {"/api/credits/journal/verify", nil}} {
				r := env.C.Get(ctx, rf.path)
				if r.Status != 0 {
					judged++
				}
				doc := decode(r.Raw)
				if r.Status != 200 {
					missing = append(missing, fmt.Sprintf("%s %d", rf.path, r.Status))
				}
				for _, f := range rf.fields {
					if _, ok := doc[f]; !ok {
						missing = append(missing, rf.path+" without "+f)
					}
				}
			}
			env.Record("B45", harness.Measure{OK: len(missing) == 0, Samples: judged, Measured: len(missing), Threshold: 0,
				Detail: strings.Join(missing, "; ")})
		}
	})

	It("the original's response shapes keep every field its clients read, with its JSON type", Label("critical"), func(ctx SpecContext) {
		env.Require("B46")
		newID := env.ID("ct-shape")
		credit := []string{"agent_id:string", "amount:number", "balance_after:number", "reason:string"}
		// Only the original's routes, each answering 200 as the original
		// does (POST /agents: 201 accepted too until creditd answers 200
		// everywhere). Distinct reasons tell the history entries apart
		// without event ids, which the original does not return.
		shapes := []struct {
			method, path string
			body         any
			fields       []string // audit.ShapeViolations specs: "path:kind|kind"
		}{
			{"GET", "/health", nil, []string{"status:string", "timestamp:time"}},
			{"GET", "/info", nil, []string{"name:string", "version:string", "config:object", "config.event_sourcing_enabled:bool"}},
			{"POST", "/agents", map[string]any{"agent_id": newID, "skill_level": 0.25}, []string{"agent_id:string", "initial_credits:number", "balance:number", "skill_level:number"}},
			// No mission_id is sent: the original answers null, not a missing field.
			{"POST", "/consume", map[string]any{"agent_id": agent, "amount": json.Number("0.001"), "reason": "shape consume"}, append(credit, "mission_id:null")},
			{"POST", "/refund", map[string]any{"agent_id": agent, "amount": json.Number("0.001"), "reason": "shape refund"}, append(credit, "mission_id:null")},
			{"POST", "/add", map[string]any{"agent_id": agent, "amount": json.Number("0.001"), "reason": "shape add"}, credit},
			{"GET", "/balance/" + agent, nil, []string{"agent_id:string", "balance:number"}},
			{"GET", "/balances", nil, []string{"balances:object", "balances.*:number", "total_agents:number"}},
			{"GET", "/history/" + agent + "?limit=3", nil, []string{"agent_id:string", "history:array", "total_entries:number",
				"history[0].event_id:string", "history[0].timestamp:utctime", "history[0].entity_id:string", "history[0].entity_type:string",
				"history[0].amount:number", "history[0].balance_after:number", "history[0].reason:string", "history[0].mission_id:string|null",
				"history[2].amount:number"}},
			{"GET", "/metrics", nil, []string{"journal:object", "journal.total_events:number", "journal.file_size_mb:number",
				"journal.idempotency_violations:number", "journal.file_path:string|null",
				"event_bus:object", "event_bus.total_published:number", "event_bus.total_subscriber_errors:number",
				"event_bus.subscribers_by_type:object", "event_bus.subscribers_by_type.*:number",
				"replay:object", "replay.total_events:number", "replay.replay_duration_seconds:number", "replay.last_replay_timestamp:unixtime|null",
				"replay.integrity_errors_count:number", "replay.snapshot_used:string|null", "replay.events_skipped_by_snapshot:number",
				"replay.snapshot_restore_duration_seconds:number|null"}},
		}
		var missing []string
		docs := map[string]map[string]any{}
		judged := 0
		for i, s := range shapes {
			r := post(ctx, s.method, s.path, fmt.Sprintf("ct-shape-%d", i), s.body)
			name := s.method + " " + strings.SplitN(s.path, "?", 2)[0]
			if r.Status == 0 {
				missing = append(missing, fmt.Sprintf("%s %s: no answer: %v", s.method, s.path, r.Err))
				continue
			}
			judged++
			if r.Status != 200 && !(name == "POST /agents" && r.Status == 201) {
				missing = append(missing, fmt.Sprintf("%s %s: status %d, the original answers 200: %.200s", s.method, s.path, r.Status, r.Raw))
			}
			doc := decode(r.Raw)
			docs[name] = doc
			for _, v := range audit.ShapeViolations(doc, s.fields...) {
				missing = append(missing, s.method+" "+s.path+": "+v)
			}
		}
		// Values a client of the original relies on beyond types.
		if st := docs["GET /health"]["status"]; st != "ok" {
			missing = append(missing, fmt.Sprintf(`GET /health: status %v, the original says "ok"`, st))
		}
		if a := docs["POST /agents"]; fmt.Sprint(a["balance"]) != fmt.Sprint(a["initial_credits"]) {
			missing = append(missing, fmt.Sprintf("POST /agents: balance %v differs from initial_credits %v", a["balance"], a["initial_credits"]))
		}
		if b := docs["GET /balances"]; b != nil {
			m, _ := b["balances"].(map[string]any)
			if fmt.Sprint(b["total_agents"]) != fmt.Sprint(len(m)) {
				missing = append(missing, fmt.Sprintf("GET /balances: total_agents %v for %d balances", b["total_agents"], len(m)))
			}
		}
		// History is newest first with signed amounts: the add, the refund,
		// then the consume just sent (-0.001); where a write answered its
		// event id, the entry must carry it.
		if h, _ := docs["GET /history/"+agent]["history"].([]any); len(h) >= 3 {
			var got, want []string
			for i, k := range []string{"POST /add", "POST /refund", "POST /consume"} {
				m, _ := h[i].(map[string]any)
				sign := ""
				if k == "POST /consume" {
					sign = "-"
				}
				g := fmt.Sprintf("%v %v", m["reason"], m["amount"])
				w := fmt.Sprintf("shape %s %s0.001", strings.TrimPrefix(k, "POST /"), sign)
				if id, ok := docs[k]["event_id"]; ok {
					g += fmt.Sprintf(" %v", m["event_id"])
					w += fmt.Sprintf(" %v", id)
				}
				got, want = append(got, g), append(want, w)
			}
			if strings.Join(got, ", ") != strings.Join(want, ", ") {
				missing = append(missing, fmt.Sprintf("GET /history: newest entries %s, want newest first with consumes negative: %s",
					strings.Join(got, ", "), strings.Join(want, ", ")))
			}
		}
		env.Record("B46", harness.Measure{OK: len(missing) == 0, Samples: judged, Measured: len(missing), Threshold: 0,
			Detail: fmt.Sprintf("%d of the original's routes answered; %s", judged, strings.Join(missing, "; "))})
	})

	It("after the contract checks the API still equals the reference fold", Label("critical"), func(ctx SpecContext) {
		env.Require(foldIDs...)
		foldFixtures(ctx, env, "ct")
		compareFold(ctx, env, "after the contract checks")
	})
})
