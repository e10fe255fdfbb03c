package explore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/scenarios"
)

// Every drawn setting must be one creditd accepts (threshold ≤ HIGH ≤
// CRITICAL ≤ maximum, synergie base × 1.5 below the threshold, base ≤ cap,
// timeouts ≥ 1 s) and round-trip exactly through its CREDITD_* form.
func TestDrawnSettingsAreValidAndExact(t *testing.T) {
	for seed := uint64(0); seed < 500; seed++ {
		s := DrawSettings(rand.New(rand.NewPCG(seed, 1)))
		if !(s.ThresholdMilli > 0 && s.ThresholdMilli <= s.HighMilli && s.HighMilli <= s.CriticalMilli && s.CriticalMilli < s.MaxAmountMilli) {
			t.Fatalf("seed %d: unordered bounds %+v", seed, s)
		}
		if s.SynergieBase*3/2 >= s.ThresholdMilli || s.SynergieBase > s.SynergieCap || s.SynergieBase <= 0 {
			t.Fatalf("seed %d: synergie base %d, cap %d, threshold %d", seed, s.SynergieBase, s.SynergieCap, s.ThresholdMilli)
		}
		for _, d := range []time.Duration{s.TimeoutMedium, s.TimeoutHigh, s.TimeoutCritical} {
			if d < time.Second {
				t.Fatalf("seed %d: timeout %s", seed, d)
			}
		}
		for k, v := range s.rules() {
			if strings.HasPrefix(k, "CREDITD_APPROVAL_TIMEOUT") {
				continue
			}
			if m, ok := parseMilli(v); !ok || m <= 0 {
				t.Fatalf("seed %d: %s=%s does not parse back", seed, k, v)
			}
		}
		if m, _ := parseMilli(s.rules()["CREDITD_APPROVAL_THRESHOLD"]); m != s.ThresholdMilli {
			t.Fatalf("seed %d: threshold %d rendered %s", seed, s.ThresholdMilli, s.rules()["CREDITD_APPROVAL_THRESHOLD"])
		}
	}
}

// A rule setting at SPEC §5's default is not passed to the backend, so its
// own default runs and is judged; the defaults walk passes only the fail
// refund share and the memory bounds.
func TestSettingsAtTheirDefaultAreLeftToTheBackend(t *testing.T) {
	s := DrawSettings(rand.New(rand.NewPCG(7, 1)))
	s.ThresholdMilli, s.TimeoutHigh = DefaultSettings().ThresholdMilli, 48*time.Hour
	env := s.Env()
	for _, k := range []string{"CREDITD_APPROVAL_THRESHOLD", "CREDITD_APPROVAL_TIMEOUT_HIGH"} {
		if v, ok := env[k]; ok {
			t.Fatalf("%s=%s passed at its default", k, v)
		}
	}
	if env["CREDITD_MAX_AMOUNT"] != s.rules()["CREDITD_MAX_AMOUNT"] {
		t.Fatalf("a drawn maximum was not passed: %v", env)
	}
	s.MissionFailRefund, s.Capacities = 0.5, map[string]int{"CREDITD_LEDGER_KEEP": 3}
	d := s.Defaults().Env()
	want := map[string]string{"CREDITD_MISSION_FAIL_REFUND": "0.5", "CREDITD_LEDGER_KEEP": "3"}
	if len(d) != len(want) || d["CREDITD_MISSION_FAIL_REFUND"] != "0.5" || d["CREDITD_LEDGER_KEEP"] != "3" {
		t.Fatalf("the defaults walk passes %v, want %v", d, want)
	}
	s.MissionFailRefund = 1 // drawn at the default: the defaults walk still takes a share below 1
	if got := s.Defaults().MissionFailRefund; got != 0.5 {
		t.Fatalf("the defaults walk's fail refund share is %v, want 0.5", got)
	}
}

// The grammar covers every body schema of the shipped OpenAPI document
// (read as a file, never imported) and the reserved '#'.
func TestGrammarCasesCoverTheDocument(t *testing.T) {
	doc, err := os.ReadFile("../../engine/httpapi/openapi.json")
	if err != nil {
		t.Skip("no openapi.json beside the module: ", err)
	}
	n := 0
	cases, err := GrammarCases(doc, "agent", func() string { n++; return "x" + string(rune('a'+n%26)) })
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	var hash, nested bool
	for _, c := range cases {
		if strings.HasSuffix(c.Name, ": valid base body") {
			routes[c.Method+" "+c.Path] = true
		}
		if strings.Contains(c.Key, "#") && !c.Valid {
			hash = true
		}
		if strings.Contains(c.Name, "at depth 4") {
			nested = true
		}
	}
	if len(routes) < 20 || !hash || !nested || len(cases) < 800 {
		t.Fatalf("%d cases over %d routes (reserved '#': %v, depth 4: %v)", len(cases), len(routes), hash, nested)
	}
}

// The fault plan is drawn from the seed alone, bounded, and never draws a
// kind the target could not take.
func TestFaultPlanIsSeededAndBounded(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		cfg := Config{Seed: seed, Commands: 900, MaxFaults: DefaultMaxFaults}
		a, b := newFaultPlan(cfg), newFaultPlan(cfg)
		if len(a.at) < 3 || len(a.at) > DefaultMaxFaults || fmt.Sprint(a.at) != fmt.Sprint(b.at) {
			t.Fatalf("seed %d: plan %v vs %v", seed, a.at, b.at)
		}
		for _, n := range a.at {
			if n < 30 || n >= cfg.Commands {
				t.Fatalf("seed %d: a fault at command %d", seed, n)
			}
		}
		a.unavail[FaultPowerCut], a.unavail[FaultKarmaDown] = "no layer", "no stub"
		for i := 0; i < 50; i++ {
			if k := a.drawKind(i%2 == 0); k == FaultPowerCut || k == FaultKarmaDown || k == "" {
				t.Fatalf("seed %d: drew %q", seed, k)
			}
		}
	}
}

// With OneToken every request carries the one token given (none when it is
// ""), whatever principal, missing or unknown token was drawn, and the
// draws are those of the same seed without it: a backend whose tokens the
// harness cannot choose meets the same workload.
func TestOneTokenSendsTheGivenTokenOnEveryCommand(t *testing.T) {
	run := func(one bool, token string) (*Run, []string) {
		var mu sync.Mutex
		var auth []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auth = append(auth, r.Header.Get("Authorization"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"balance":"1.000"}`))
		}))
		defer srv.Close()
		r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 7, Commands: 120, Budget: 20 * time.Second,
			Prefix: "t-", Settings: DefaultSettings(), Principals: Principals("t-"), OneToken: one, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		return r, auth
	}
	drawn, _ := run(false, "")
	// The refused mutators' resends and the decision sweep (with the final
	// read of its agent) go only where tokens mean something.
	kept := drawn.Commands[:0:0]
	for _, c := range drawn.Commands {
		if !strings.HasPrefix(c.Note, "refused mutators: ") && !strings.HasPrefix(c.Note, "decision sweep: ") && !strings.HasSuffix(c.Path, "/t-dc") {
			kept = append(kept, c)
		}
	}
	drawn.Commands = kept
	if len(drawn.Commands) < 100 {
		t.Fatalf("only %d commands drawn", len(drawn.Commands))
	}
	for _, token := range []string{"tok-given", ""} {
		got, auth := run(true, token)
		want := ""
		if token != "" {
			want = "Bearer " + token
		}
		for i, a := range auth {
			if a != want {
				t.Fatalf("token %q: request %d sent Authorization %q", token, i, a)
			}
		}
		if len(got.Commands) != len(drawn.Commands) {
			t.Fatalf("token %q: %d commands, %d without OneToken", token, len(got.Commands), len(drawn.Commands))
		}
		for i, c := range got.Commands {
			d := drawn.Commands[i]
			if c.Token != token || c.Method != d.Method || c.Path != d.Path || string(c.Body) != string(d.Body) {
				t.Fatalf("token %q: command %d %s %s %s (token %q), without OneToken %s %s %s", token, i, c.Method, c.Path, c.Body, c.Token, d.Method, d.Path, d.Body)
			}
		}
	}
}

// However few commands the budget lets the walk draw, every run sends a
// decision on each route by each token that may not decide to a request
// that is pending (a service role admitted to decide was met by chance
// before: one decision in a hundred).
func TestEveryRunSendsEachRefusedDeciderToAPendingRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == "POST" && r.URL.Path == api+"/approvals" {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"request_id":"r-1","status":"pending","agent_id":"a","action_type":"add","amount":"500.000"}`))
			return
		}
		if strings.Contains(r.URL.Path, "/approvals/") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"forbidden"}`))
			return
		}
		_, _ = w.Write([]byte(`{"balance":"1.000"}`))
	}))
	defer srv.Close()
	ps := Principals("t-")
	r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 3, Commands: 3, Budget: 5 * time.Second,
		Prefix: "t-", Settings: DefaultSettings(), Principals: ps})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"approve", "reject"} {
		for _, tok := range []string{TokenOf(ps, "operator"), TokenOf(ps, "service"), TokenOf(ps, "reader"), "", "tok-bogus"} {
			found := false
			for _, c := range r.Commands {
				found = found || (c.Method == "POST" && c.Path == api+"/approvals/r-1/"+verb && c.Token == tok)
			}
			if !found {
				t.Errorf("no %s of the pending request with token %q among %d commands", verb, tok, len(r.Commands))
			}
		}
	}
}

// Every kind of mutation the walk saw accepted is sent again by each
// token that may not mutate (a reader's, an approver's, none, an unknown
// one), however rarely the walk draws that route.
func TestEveryAcceptedMutationIsSentAgainByEachRefusedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"balance":"1.000"}`))
	}))
	defer srv.Close()
	ps := Principals("t-")
	r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 5, Commands: 150, Budget: 10 * time.Second,
		Prefix: "t-", Settings: DefaultSettings(), Principals: ps})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]bool{TokenOf(ps, "reader"): true, TokenOf(ps, "approver"): true, "": true, "tok-bogus": true}
	sent := map[string]map[string]bool{} // method and route -> tokens resent
	routes := 0
	for _, c := range r.Commands {
		if route := c.Method + " " + routeOf(c.Path); strings.HasPrefix(c.Note, "refused mutators: ") && refused[c.Token] {
			if sent[route] == nil {
				sent[route] = map[string]bool{}
			}
			sent[route][c.Token] = true
		}
	}
	for _, c := range r.Commands {
		// The walk's mutations only: the sweeps after it are not resent.
		if c.Method == "GET" || c.Note == "" || strings.HasPrefix(c.Note, "refused ") || strings.HasPrefix(c.Note, "epilogue") || strings.Contains(c.Note, " sweep: ") || strings.Contains(c.Path, "/approve") || strings.Contains(c.Path, "/reject") {
			continue
		}
		// Each accepted route is resent once, on one of its paths.
		if len(sent[c.Method+" "+routeOf(c.Path)]) != len(refused) {
			t.Errorf("%s %s (accepted) never sent again by every refused token", c.Method, c.Path)
		}
		routes++
	}
	if routes == 0 || len(sent) < 8 {
		t.Fatalf("%d mutation routes resent, from %d accepted mutations", len(sent), routes)
	}
}

// Every money route is sent at every bound of the settings (threshold,
// HIGH, CRITICAL and just below each; the maximum and just above it),
// however few commands the walk drew.
func TestEveryMoneyRouteIsSentAtEveryBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"balance":"100.000"}`))
	}))
	defer srv.Close()
	s := DrawSettings(rand.New(rand.NewPCG(9, 1)))
	r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 9, Commands: 5, Budget: 5 * time.Second,
		Prefix: "t-", Settings: s, Principals: Principals("t-")})
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]bool{}
	for _, c := range r.Commands {
		var b map[string]any
		d := json.NewDecoder(strings.NewReader(string(c.Body)))
		d.UseNumber()
		if c.Method != "POST" || d.Decode(&b) != nil {
			continue
		}
		route := strings.TrimPrefix(c.Path, api+"/")
		if a, ok := b["action_type"].(string); ok {
			route += " " + a
		}
		sent[route+" "+fmt.Sprint(b["amount"])] = true
	}
	for _, route := range []string{"add", "withdraw", "consume", "refund", "approvals add", "approvals withdraw"} {
		for _, m := range []int64{s.ThresholdMilli - 1, s.ThresholdMilli, s.HighMilli - 1, s.HighMilli, s.CriticalMilli - 1, s.CriticalMilli, s.MaxAmountMilli, s.MaxAmountMilli + 1} {
			if !sent[route+" "+credits(m)] {
				t.Errorf("%s never sent with amount %s", route, credits(m))
			}
		}
	}
}

// Every mission type and complexity (an unknown type and none among them)
// is started once, however few commands the walk drew.
func TestEveryMissionTypeAndComplexityIsStarted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"balance":"100.000"}`))
	}))
	defer srv.Close()
	r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 4, Commands: 5, Budget: 5 * time.Second,
		Prefix: "t-", Settings: DefaultSettings(), Principals: Principals("t-")})
	if err != nil {
		t.Fatal(err)
	}
	started := map[string]bool{}
	for _, c := range r.Commands {
		var b struct {
			Type       string `json:"mission_type"`
			Complexity string `json:"complexity"`
		}
		if c.Method == "POST" && c.Path == api+"/missions" && json.Unmarshal(c.Body, &b) == nil {
			started[b.Type+"/"+b.Complexity] = true
		}
	}
	for _, kind := range []string{"general", "code_review", "deployment", "research", "architecture", "unknown_kind"} {
		for _, cx := range []string{"low", "medium", "high", ""} {
			if !started[kind+"/"+cx] {
				t.Errorf("no %s mission of complexity %q started", kind, cx)
			}
		}
	}
}

// Every run takes a pool through the states the walk reaches rarely: a
// member removed and consuming again, an outsider's consume, a refund
// beyond what is left, a transfer of the balance and 0.001 more, both
// pools closed and a consume on a closed one.
func TestEveryRunTakesAPoolThroughItsRareStates(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"balance":"100.000"}`))
	}))
	defer srv.Close()
	r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 6, Commands: 5, Budget: 5 * time.Second,
		Prefix: "t-", Settings: DefaultSettings(), Principals: Principals("t-")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"DELETE " + api + "/pools/t-psp1/members/t-psb": 1, "POST " + api + "/pools/t-psp1/consume": 3,
		"POST " + api + "/pools/t-psp1/refund": 2, "POST " + api + "/pools/t-psp1/transfer": 2,
		"POST " + api + "/pools/t-psp1/close": 1, "POST " + api + "/pools/t-psp2/close": 1, "POST " + api + "/pools/t-psp2/consume": 1,
	}
	got := map[string]int{}
	for _, c := range r.Commands {
		if strings.HasPrefix(c.Note, "pool sweep: ") {
			got[c.Method+" "+c.Path]++
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s sent %d times, want %d", k, got[k], n)
		}
	}
}

// Every run ends missions at each bound of their rules: a complete just
// below, at and just above the estimate and at 0, a fail, a cancel, and
// a second end of ended missions.
func TestEveryRunEndsMissionsAtTheBoundsOfTheirRules(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == api+"/missions":
			_, _ = w.Write([]byte(`{"payload":{"estimate_milli":5000}}`))
		case strings.HasPrefix(r.URL.Path, api+"/missions/"):
			_, _ = w.Write([]byte(`{"payload":{"refund_milli":0}}`))
		default:
			_, _ = w.Write([]byte(`{"balance":"100.000"}`))
		}
	}))
	defer srv.Close()
	r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 7, Commands: 5, Budget: 5 * time.Second,
		Prefix: "t-", Settings: DefaultSettings(), Principals: Principals("t-")})
	if err != nil {
		t.Fatal(err)
	}
	costs, verbs, ends := map[string]bool{}, map[string]bool{}, map[string]int{}
	for _, c := range r.Commands {
		rest, ok := strings.CutPrefix(c.Path, api+"/missions/t-msm")
		if c.Method != "POST" || !ok {
			continue
		}
		id, verb, _ := strings.Cut(rest, "/")
		ends[id]++
		verbs[verb] = true
		if cost, ok := decodeMap(c.Body)["actual_cost"]; ok && verb == "complete" {
			costs[fmt.Sprint(cost)] = true
		}
	}
	for _, cost := range []string{"4.999", "5", "5.001", "0"} {
		if !costs[cost] {
			t.Errorf("no complete at actual cost %s (completes sent at %v)", cost, costs)
		}
	}
	for _, verb := range []string{"fail", "cancel"} {
		if !verbs[verb] {
			t.Errorf("no mission of the sweep ended by %s", verb)
		}
	}
	twice := 0
	for _, n := range ends {
		if n > 1 {
			twice++
		}
	}
	if twice < 3 {
		t.Errorf("%d ended missions got a second end, want 3", twice)
	}
}

// Every run takes a CRITICAL request through its votes: the requester's
// own, one approver twice, a second approver on a stale version and on the
// current one, and a third deciding the decided request.
func TestEveryRunTakesACriticalRequestThroughItsVotes(t *testing.T) {
	var n atomic.Int64
	var mu sync.Mutex
	voted := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == "POST" && r.URL.Path == api+"/approvals" {
			w.WriteHeader(http.StatusAccepted)
			_, _ = fmt.Fprintf(w, `{"request_id":"r-%d","status":"pending"}`, n.Add(1))
			return
		}
		if strings.Contains(r.URL.Path, "/approvals/") { // the requester refused, a voter's second vote a conflict
			mu.Lock()
			defer mu.Unlock()
			who := r.Header.Get("Authorization") + " " + strings.Split(r.URL.Path, "/")[4]
			switch {
			case strings.HasSuffix(r.Header.Get("Authorization"), "adm1"):
				w.WriteHeader(http.StatusForbidden)
			case voted[who]:
				w.WriteHeader(http.StatusConflict)
			}
			voted[who] = true
			_, _ = w.Write([]byte(`{"status":"pending"}`))
			return
		}
		_, _ = w.Write([]byte(`{"balance":"1.000"}`))
	}))
	defer srv.Close()
	ps := Principals("t-")
	r, err := Explore(context.Background(), scenarios.NewClient(srv.URL, ""), Config{Seed: 8, Commands: 3, Budget: 5 * time.Second,
		Prefix: "t-", Settings: DefaultSettings(), Principals: ps})
	if err != nil {
		t.Fatal(err)
	}
	critical := credits(DefaultSettings().CriticalMilli)
	votes := map[string][]string{} // request → its decisions, "verb by name[@version]"
	var requests []string
	for _, c := range r.Commands {
		m := decodeMap(c.Body)
		if c.Method == "POST" && c.Path == api+"/approvals" && fmt.Sprint(m["amount"]) == critical && strings.HasPrefix(fmt.Sprint(m["agent_id"]), "t-dc") {
			requests = append(requests, fmt.Sprint(resp(c)["request_id"]))
			continue
		}
		rest, ok := strings.CutPrefix(c.Path, api+"/approvals/")
		if c.Method != "POST" || !ok {
			continue
		}
		id, verb, _ := strings.Cut(rest, "/")
		v := verb + " by " + strings.TrimPrefix(strings.TrimPrefix(c.Token, "tok-"), "t-")
		if ev, ok := m["expected_version"]; ok {
			v += fmt.Sprintf("@%v", ev)
		}
		votes[id] = append(votes[id], v)
	}
	if len(requests) != 2 {
		t.Fatalf("CRITICAL requests of the sweep: %v, want an add and a withdrawal", requests)
	}
	want := map[string][]string{
		requests[0]: {"approve by adm1", "approve by ap1", "approve by ap1", "approve by ap2", "approve by ap2@1", "approve by ap2@3", "reject by ap3"},
		requests[1]: {"approve by ap2", "reject by ap3", "approve by ap1"},
	}
	for id, w := range want {
		if got := votes[id]; !slices.Equal(got, w) {
			t.Errorf("decisions on %s: %v, want %v", id, got, w)
		}
	}
}
