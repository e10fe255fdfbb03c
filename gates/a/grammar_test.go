package a_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/scenarios/explore"
)

// The generated grammar fuzzer (issue 17): cases generated from the
// target's own OpenAPI document — every member of every body repeated (also
// under an escaped name), misspelt in case, given a wrong type, with
// duplicates at every depth of its value, unknown members, bad JSON, bad
// media type, hostile amounts — and every byte class of the key and id
// alphabets, '#' (reserved for derived keys) included. No 5xx (A24), every
// invalid case refused with its documented code and every valid one past
// the grammar (A25), and the refused ones change nothing (A26).
var _ = Describe("Gate A: generated grammar", Ordered, ContinueOnFailure, harness.Checks("A24", "A25", "A26"), func() {
	var env *harness.Env

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "A", nil, harness.Requiring("A24", "A25", "A26"))
		env.Require("A24", "A25", "A26") // again, now that the routes are known
	}, NodeTimeout(2*time.Minute))

	It("refuses every generated invalid request with its code, never 5xx, and changes nothing", Label("critical"), func(ctx SpecContext) {
		base, tok := env.T.BaseURL(), env.T.Token()
		agent := env.ID("g-agent")
		err := env.C.CreateAgent(ctx, agent, 100)
		harness.Ensure(err == nil, "the grammar's agent must be created: %v", err)
		hc := &http.Client{Timeout: 10 * time.Second}
		do := func(method, path string, body []byte, ct, key string) (int, string, error) {
			req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
			if err != nil {
				return 0, "", err
			}
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			if key != "" {
				req.Header.Set("Idempotency-Key", env.NS+key)
			}
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := hc.Do(req)
			if err != nil {
				return 0, "", err
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			var b struct {
				Code string `json:"code"`
			}
			_ = json.Unmarshal(raw, &b)
			return resp.StatusCode, b.Code, nil
		}
		status, _, err := do("GET", "/api/credits/openapi.json", nil, "", "")
		harness.Ensure(err == nil && status == 200, "GET /api/credits/openapi.json must answer 200: %d %v", status, err)
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/credits/openapi.json", nil)
		resp, err := hc.Do(req)
		harness.Ensure(err == nil, "GET /api/credits/openapi.json: %v", err)
		doc, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n := 0
		cases, err := explore.GrammarCases(doc, agent, func() string { n++; return fmt.Sprint(n) })
		harness.Ensure(err == nil, "the grammar must be read from the OpenAPI document: %v", err)
		// Another backend is judged by what SPEC §3/§6 fix: an invalid
		// request is refused 4xx and changes nothing, whatever its code;
		// our engine's own alphabets and codes (docs/events.md §5b) are
		// about our engine only.
		grammarCodes, scope := explore.GrammarCodes, "our engine's documented codes"
		if !env.TCfg.Kind.OwnEngine() {
			kept := cases[:0]
			dropped := 0
			for _, c := range cases {
				if c.Ours {
					dropped++
					continue
				}
				c.Codes = nil
				kept = append(kept, c)
			}
			cases, grammarCodes = kept, nil
			scope = fmt.Sprintf("any 4xx code (SPEC names no code for these refusals); %d cases about our engine's key and id alphabets and media type not sent", dropped)
		}
		digest := func(ctx context.Context) string {
			if !env.Routes.Has("GET /api/credits/digest") {
				return ""
			}
			r := env.C.Get(ctx, "/api/credits/digest")
			return fmt.Sprint(r.Body["seq"], " ", r.Body["digest"])
		}
		var results []audit.GrammarResult
		run := func(valid bool) {
			for _, c := range cases {
				if c.Valid != valid {
					continue
				}
				st, code, err := do(c.Method, c.Path, c.Body, c.ContentType, c.Key)
				r := audit.GrammarResult{Name: c.Name, Valid: c.Valid, Bound: c.Bound, Codes: c.Codes, Status: st, Code: code}
				if err != nil {
					r.Err = err.Error()
				}
				results = append(results, r)
			}
		}
		before := digest(ctx)
		run(false) // the refused ones first: the digest must not move
		after := digest(ctx)
		run(true)
		valid := 0
		for _, c := range cases {
			if c.Valid {
				valid++
			}
		}
		for _, f := range audit.JudgeGrammar(results, grammarCodes, before, after) {
			f.Detail = fmt.Sprintf("%d generated cases (%d invalid, %d valid) from the target's OpenAPI document, refusals judged by %s. %s", len(cases), len(cases)-valid, valid, scope, f.Detail)
			env.RecordFinding(f, "")
		}
	})
})
