package b_test

// The rest of the HTTP contract no scenario reaches on its own: the read and
// operations routes answer what SPEC §6 says (the journal over GET /events
// byte for byte, metrics that agree with the journal, the OpenAPI document
// listing every route), bad input is a 4xx that names the problem and writes
// nothing, pool membership gates pool consumes, and a mission's rating is
// recorded. The original's response shapes (SPEC §6 table) are a warning.

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
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios"
)

// Check names (the coverage map in gates/coverage refers to them).
const (
	CheckEventsRoute    = "GET /events pages equal the journal file byte for byte"
	CheckMetricsRoutes  = "GET /api/credits/metrics and /metrics report the journal's last seq"
	CheckProbes         = "GET /livez, /readyz, /api/health, /api/credits/health and /info answer 200 on a healthy backend"
	CheckOpenAPIRoute   = "GET /openapi.json is a JSON OpenAPI document with paths"
	CheckStatusRoutes   = "GET /karma/status, /eoc and /journal/verify answer their documented fields"
	CheckBadInput       = "bad input is a 4xx with code and detail, never a 5xx, and writes nothing"
	CheckPoolMembership = "pool membership: members added and removed show in GET /pools/{id}; a removed member cannot consume"
	CheckMissionRating  = "mission rating: POST /missions/{id}/rate records the rating and refuses one outside 0..1"
	// CheckOrigShapes: clients written for the original work unchanged.
	CheckOrigShapes = "original response shapes (SPEC §6 table): every field a client of the original reads, with its JSON type"
)

var _ = Describe("Gate B: the rest of the HTTP contract", Ordered, ContinueOnFailure, func() {
	var env *harness.Env
	var agent string

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", nil)
		env.OutDir = filepath.Join(env.OutDir, "contract")
		Expect(os.MkdirAll(env.OutDir, 0o755)).To(Succeed())
		agent = env.ID("ct-agent")
		Expect(env.C.CreateAgent(ctx, agent, 100)).To(Succeed())
	}, NodeTimeout(time.Minute))

	decode := func(raw []byte) map[string]any {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var doc map[string]any
		_ = dec.Decode(&doc)
		return doc
	}
	seq := func(ctx context.Context) string {
		r := env.C.Get(ctx, "/api/credits/digest")
		Expect(r.OK()).To(BeTrue())
		return fmt.Sprint(decode(r.Raw)["seq"])
	}
	post := func(ctx context.Context, method, path, key string, body any) scenarios.Reply {
		return env.C.Do(ctx, scenarios.Call{Method: method, Path: "/api/credits" + path, Key: key, Body: body})
	}

	It("bad input is refused with a 4xx naming the problem, and writes nothing", Label("critical"), func(ctx SpecContext) {
		pool := env.ID("ct-badpool")
		Expect(post(ctx, "POST", "/pools", "ct-badpool", map[string]any{"pool_id": pool, "members": []string{agent}}).OK()).To(BeTrue())
		before := seq(ctx)
		n := func(s string) json.Number { return json.Number(s) }
		cases := []struct {
			name, method, path string
			body               any
			status             int
			code               string
		}{
			{"four decimals", "POST", "/consume", map[string]any{"agent_id": agent, "amount": n("1.2345"), "reason": "x"}, 422, ""},
			{"zero amount", "POST", "/refund", map[string]any{"agent_id": agent, "amount": 0, "reason": "x"}, 422, ""},
			{"negative amount", "POST", "/withdraw", map[string]any{"agent_id": agent, "amount": -1, "reason": "x"}, 422, ""},
			{"amount as a string NaN", "POST", "/consume", map[string]any{"agent_id": agent, "amount": "NaN", "reason": "x"}, 0, ""},
			{"amount above the maximum", "POST", "/consume", map[string]any{"agent_id": agent, "amount": n("1e12"), "reason": "x"}, 422, ""},
			{"unknown JSON field", "POST", "/consume", map[string]any{"agent_id": agent, "amount": 1, "reason": "x", "amunt": 1}, 0, ""},
			{"unknown agent", "POST", "/consume", map[string]any{"agent_id": env.ID("ct-nobody"), "amount": 1, "reason": "x"}, 404, ""},
			{"overdraft", "POST", "/consume", map[string]any{"agent_id": agent, "amount": 100000, "reason": "x"}, 409, "insufficient_credits"},
			{"existing agent", "POST", "/agents", map[string]any{"agent_id": agent, "skill_level": 0.5}, 409, "agent_exists"},
			{"skill above 1", "POST", "/agents", map[string]any{"agent_id": env.ID("ct-skill"), "skill_level": 1.5}, 422, ""},
			{"team of one", "POST", "/synergie/collaborations", map[string]any{"collaboration_id": env.ID("ct-c"), "team_id": "t",
				"agent_ids": []string{agent, agent}, "contribution_scores": map[string]float64{agent: 1}}, 422, ""},
			{"end an unknown mission", "POST", "/missions/" + env.ID("ct-nomission") + "/complete", map[string]any{"actual_cost": 1}, 404, ""},
			{"transfer to the same pool", "POST", "/pools/" + pool + "/transfer", map[string]any{"to_pool_id": pool, "amount": 1, "reason": "x"}, 0, ""},
			{"pool overdraft", "POST", "/pools/" + pool + "/consume", map[string]any{"agent_id": agent, "amount": 1, "reason": "x"}, 409, "insufficient_credits"},
			{"approval of an unknown action", "POST", "/approvals", map[string]any{"action_type": "steal", "agent_id": agent, "amount": 600, "reason": "x"}, 422, ""},
		}
		var bad []string
		for i, c := range cases {
			r := post(ctx, c.method, c.path, fmt.Sprintf("ct-bad-%d", i), c.body)
			doc := decode(r.Raw)
			detail, _ := doc["detail"].(string)
			code, _ := doc["code"].(string)
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
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Content-Type", "application/json")
		if tok := env.T.Token(); tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if resp, err := http.DefaultClient.Do(req); err != nil {
			bad = append(bad, "malformed JSON: "+err.Error())
		} else {
			resp.Body.Close()
			if resp.StatusCode != 400 {
				bad = append(bad, fmt.Sprintf("malformed JSON: %d, want 400", resp.StatusCode))
			}
		}
		after := seq(ctx)
		if after != before {
			bad = append(bad, fmt.Sprintf("the journal grew from seq %s to %s", before, after))
		}
		env.Check(CheckBadInput, len(bad) == 0, len(bad), 0, fmt.Sprintf("%d bad requests; %s", len(cases), strings.Join(bad, "; ")), true)
	})

	It("pool membership is what the members routes say, and only members consume", Label("critical"), func(ctx SpecContext) {
		other := env.ID("ct-other")
		Expect(env.C.CreateAgent(ctx, other, 100)).To(Succeed())
		pool := env.ID("ct-mpool")
		Expect(post(ctx, "POST", "/pools", "ct-mpool", map[string]any{"pool_id": pool, "members": []string{agent}}).OK()).To(BeTrue())
		Expect(post(ctx, "POST", "/pools/"+pool+"/allocate", "ct-mpool-fund", map[string]any{"amount": json.Number("10.101"), "reason": "fund"}).OK()).To(BeTrue())
		var bad []string
		members := func() string {
			r := env.C.Get(ctx, "/api/credits/pools/"+pool)
			var doc struct {
				Members []string `json:"members"`
			}
			_ = json.Unmarshal(r.Raw, &doc)
			return fmt.Sprint(doc.Members)
		}
		if r := post(ctx, "POST", "/pools/"+pool+"/members", "ct-mpool-add", map[string]any{"agent_id": other}); !r.OK() {
			bad = append(bad, fmt.Sprintf("add member: %d %s", r.Status, r.Raw))
		}
		if r := post(ctx, "POST", "/pools/"+pool+"/consume", "ct-mpool-c1", map[string]any{"agent_id": other, "amount": json.Number("1.001"), "reason": "member"}); !r.OK() {
			bad = append(bad, fmt.Sprintf("consume by a member: %d %s", r.Status, r.Raw))
		}
		if r := post(ctx, "DELETE", "/pools/"+pool+"/members/"+other, "ct-mpool-rm", nil); !r.OK() {
			bad = append(bad, fmt.Sprintf("remove member: %d %s", r.Status, r.Raw))
		}
		if m := members(); strings.Contains(m, other) {
			bad = append(bad, "GET /pools lists the removed member: "+m)
		}
		before := seq(ctx)
		if r := post(ctx, "POST", "/pools/"+pool+"/consume", "ct-mpool-c2", map[string]any{"agent_id": other, "amount": json.Number("1.001"), "reason": "not a member"}); r.OK() || r.Status >= 500 {
			bad = append(bad, fmt.Sprintf("consume by a removed member: %d %s", r.Status, r.Raw))
		}
		if after := seq(ctx); after != before {
			bad = append(bad, "the refused consume wrote to the journal")
		}
		env.Check(CheckPoolMembership, len(bad) == 0, len(bad), 0, strings.Join(bad, "; "), true)
	})

	It("a mission's rating is recorded, and one outside 0..1 is refused", func(ctx SpecContext) {
		mid := env.ID("ct-rated")
		Expect(post(ctx, "POST", "/missions", "ct-rated", map[string]any{"mission_id": mid, "agent_id": agent, "mission_type": "deployment", "complexity": "low"}).OK()).To(BeTrue())
		Expect(post(ctx, "POST", "/missions/"+mid+"/complete", "ct-rated-end", map[string]any{"actual_cost": json.Number("2.468")}).OK()).To(BeTrue())
		ok := post(ctx, "POST", "/missions/"+mid+"/rate", "ct-rate", map[string]any{"rating": 0.75})
		refused := post(ctx, "POST", "/missions/"+mid+"/rate", "ct-rate-bad", map[string]any{"rating": 1.5})
		got := env.C.Get(ctx, "/api/credits/missions/"+mid)
		rating := decode(got.Raw)["rating"]
		env.Check(CheckMissionRating, ok.OK() && refused.Status == 422 && fmt.Sprint(rating) == "0.75",
			fmt.Sprintf("rate %d, bad rate %d, GET rating %v", ok.Status, refused.Status, rating), "2xx, 422, 0.75", "", false)
	})

	It("the read and operations routes answer what SPEC §6 says", func(ctx SpecContext) {
		// Journal over HTTP vs the file, byte for byte (small pages).
		if p := env.T.JournalPath(); p != "" {
			file, err := os.ReadFile(p)
			Expect(err).NotTo(HaveOccurred())
			var viaAPI []byte
			for after := 0; ; {
				r := env.C.Get(ctx, fmt.Sprintf("/api/credits/events?after_seq=%d&limit=7", after))
				Expect(r.Status).To(Equal(200), "GET /events: %s", r.Raw)
				viaAPI = append(viaAPI, r.Raw...)
				lines := bytes.Count(r.Raw, []byte("\n"))
				after += lines
				if lines < 7 {
					break
				}
			}
			env.Check(CheckEventsRoute, bytes.Equal(file, viaAPI), fmt.Sprintf("%d bytes via the API", len(viaAPI)),
				fmt.Sprintf("%d bytes in the file", len(file)), "pages of 7 lines by after_seq", true)
		}
		last := seq(ctx)
		jm := decode(env.C.Get(ctx, "/api/credits/metrics").Raw)
		journal, _ := jm["journal"].(map[string]any)
		prom := env.C.Get(ctx, "/metrics")
		env.Check(CheckMetricsRoutes, fmt.Sprint(journal["seq"]) == last && strings.Contains(string(prom.Raw), "creditd_journal_seq "+last),
			fmt.Sprintf("JSON journal.seq %v; Prometheus has creditd_journal_seq %s: %v", journal["seq"], last, strings.Contains(string(prom.Raw), "creditd_journal_seq "+last)),
			"both equal the digest's seq "+last, "", false)

		var probes []string
		for _, p := range []string{"/livez", "/readyz", "/api/health", "/api/credits/health", "/api/credits/info"} {
			if r := env.C.Get(ctx, p); r.Status != 200 {
				probes = append(probes, fmt.Sprintf("%s %d", p, r.Status))
			}
		}
		env.Check(CheckProbes, len(probes) == 0, len(probes), 0, strings.Join(probes, "; "), false)

		oa := decode(env.C.Get(ctx, "/api/credits/openapi.json").Raw)
		paths, _ := oa["paths"].(map[string]any)
		env.Check(CheckOpenAPIRoute, oa["openapi"] != nil && len(paths) > 20, len(paths), "> 20 paths", "", false)

		var missing []string
		for path, fields := range map[string][]string{"/api/credits/karma/status": {"state", "breaker", "fallback_count"},
			"/api/credits/eoc": {"score", "band"}, "/api/credits/journal/verify": {}} {
			r := env.C.Get(ctx, path)
			doc := decode(r.Raw)
			if r.Status != 200 {
				missing = append(missing, fmt.Sprintf("%s %d", path, r.Status))
			}
			for _, f := range fields {
				if _, ok := doc[f]; !ok {
					missing = append(missing, path+" without "+f)
				}
			}
		}
		env.Check(CheckStatusRoutes, len(missing) == 0, len(missing), 0, strings.Join(missing, "; "), false)
	})

	It("the original's response shapes keep every field its clients read, with its JSON type", func(ctx SpecContext) {
		newID := env.ID("ct-shape")
		credit := []string{"agent_id:string", "amount:number", "balance_after:number", "reason:string"}
		shapes := []struct {
			method, path string
			body         any
			fields       []string // audit.ShapeViolations specs: "path:kind|kind"
		}{
			{"GET", "/health", nil, []string{"status:string", "timestamp:time"}},
			{"GET", "/info", nil, []string{"name:string", "version:string", "config:object", "config.event_sourcing_enabled:bool"}},
			{"POST", "/agents", map[string]any{"agent_id": newID, "skill_level": 0.25}, []string{"agent_id:string", "initial_credits:number", "balance:number", "skill_level:number"}},
			// No mission_id is sent: the original answers null, not a missing field.
			{"POST", "/consume", map[string]any{"agent_id": agent, "amount": json.Number("0.001"), "reason": "shape"}, append(credit, "mission_id:null")},
			{"POST", "/refund", map[string]any{"agent_id": agent, "amount": json.Number("0.001"), "reason": "shape"}, append(credit, "mission_id:null")},
			{"POST", "/add", map[string]any{"agent_id": agent, "amount": json.Number("0.001"), "reason": "shape"}, credit},
			{"GET", "/balance/" + agent, nil, []string{"agent_id:string", "balance:number"}},
			{"GET", "/balances", nil, []string{"balances:object", "balances.*:number", "total_agents:number"}},
			{"GET", "/history/" + agent + "?limit=3", nil, []string{"agent_id:string", "history:array", "total_entries:number",
				"history[0].event_id:string", "history[0].timestamp:time", "history[0].entity_id:string", "history[0].entity_type:string",
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
		for i, s := range shapes {
			r := post(ctx, s.method, s.path, fmt.Sprintf("ct-shape-%d", i), s.body)
			doc := decode(r.Raw)
			docs[s.method+" "+strings.SplitN(s.path, "?", 2)[0]] = doc
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
		// then the consume just sent (-0.001).
		if h, _ := docs["GET /history/"+agent]["history"].([]any); len(h) >= 3 {
			var got []string
			for _, e := range h[:3] {
				m, _ := e.(map[string]any)
				got = append(got, fmt.Sprintf("%v %v", m["event_id"], m["amount"]))
			}
			var want []string
			for _, k := range []string{"POST /add", "POST /refund", "POST /consume"} {
				sign := ""
				if k == "POST /consume" {
					sign = "-"
				}
				want = append(want, fmt.Sprintf("%v %s0.001", docs[k]["event_id"], sign))
			}
			if strings.Join(got, ", ") != strings.Join(want, ", ") {
				missing = append(missing, fmt.Sprintf("GET /history: newest entries %s, want newest first with consumes negative: %s",
					strings.Join(got, ", "), strings.Join(want, ", ")))
			}
		}
		env.Check(CheckOrigShapes, len(missing) == 0, len(missing), 0, strings.Join(missing, "; "), false)
	})

	It("after the contract checks the API still equals the reference fold", Label("critical"), func(ctx SpecContext) {
		// One decided and one pending request for GET /approvals/{id} (B12).
		for i, decide := range []bool{true, false} {
			id, r := env.C.RequestApproval(ctx, agent, "ct-requester", 600.5, "", fmt.Sprintf("ct-appr-%d", i))
			Expect(id).NotTo(BeEmpty(), "approval request: %d %s", r.Status, r.Raw)
			if decide {
				Expect(env.C.Decide(ctx, id, "ct-approver", true, "ok", "ct-appr-dec").OK()).To(BeTrue())
			}
		}
		fs, _ := env.FoldAndCompare(ctx, "after the contract checks")
		env.ReportAll(fs, func(string) bool { return true })
	})
})
