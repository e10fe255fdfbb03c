// Gate D — failure safety: KARMA outages (refused, hanging, erroring, slow)
// never fail or stall a consume and health degrades and recovers by itself;
// ML chaos is flagged, never blocked, with the EoC score in bounds and no
// throttling; journal corruption and kill -9 are recovered as SPEC §3 says,
// losing nothing acknowledged except lines that were physically destroyed,
// and reporting those.
package d_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/chaos/corrupt"
	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

func TestGateD(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gate D - Failure Safety", Label("gate:D"))
}

// karmaTimeout is the backend's KARMA timeout in this gate; the latency
// budget of a consume during an outage is this plus a margin.
const (
	karmaTimeout = 100 * time.Millisecond
	budget       = karmaTimeout + 400*time.Millisecond
	// cacheWindow: D47 holds every consume of an agent scored live just
	// before an outage to the cached score for this long (our engine
	// keeps a score 5 minutes).
	cacheWindow = 10 * time.Second
)

var _ = Describe("Gate D: failure safety", Ordered, ContinueOnFailure, harness.Checks("D1", "D2", "D3", "D4", "D5", "D6", "D63", "D7", "D8", "D9", "D10", "D11", "D12", "D13", "D14", "D15", "D16", "D17", "D18", "D19", "D20", "D21", "D22", "D23", "D24", "D25", "D26", "D61", "D62", "D69", "D41", "D42", "D43", "D44", "D45", "D47", "D48", "D49", "D50", "D64", "D65", "D67", "D55", "D56", "D68", "D58", "D59", "A1", "A2", "A8", "A11", "A30", "B13", "B17", "B46"), func() {
	var env *harness.Env
	// crashes counts backends found dead after a KARMA outage; outages
	// counts the outages judged (0: the fact is not measured).
	var crashes, outages int64

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "D", map[string]string{"CREDITD_KARMA_TIMEOUT": karmaTimeout.String()})
	}, NodeTimeout(2*time.Minute))

	AfterAll(func() {
		if env != nil && outages > 0 { // no outage caused: no crash fact to claim
			env.SaveFacts(reports.Facts{CrashesOnOutage: crashes})
		}
	})

	It("a KARMA blackout in every failure mode never fails or stalls a consume, and health recovers by itself", Label("critical"), func(ctx SpecContext) {
		env.Require("D1", "D2", "D3", "D4", "D45", "D47", "D5", "D6", "D7", "D8", "D44")
		agent := env.ID("gate-d-karma")
		err := env.C.CreateAgent(ctx, agent, 1000)
		harness.Ensure(err == nil, "the KARMA agent %s must be created with 1000 credits: %v", agent, err)
		live := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: "gate-d-karma-warm",
			Body: map[string]any{"agent_id": agent, "amount": 1, "reason": "warm"}})
		env.Record("D1", harness.Measure{OK: karmaSource(live) == "live", Samples: 1, Measured: karmaSource(live), Threshold: "live", Detail: string(live.Raw)})

		modes := []struct {
			name string
			f    fault.Lasting
		}{
			{"stopped (connection refused)", &fault.KarmaDown{K: env.Karma}},
			{"hanging", &fault.KarmaMode{Stub: env.Karma.Stub, Mode: karmastub.Mode{Kind: karmastub.Hang}, Label: "hanging"}},
			{"erroring (503)", &fault.KarmaMode{Stub: env.Karma.Stub, Mode: karmastub.Mode{Kind: karmastub.Error, Status: 503}, Label: "erroring (503)"}},
			{"slow (2 s)", &fault.KarmaMode{Stub: env.Karma.Stub, Mode: karmastub.Mode{Kind: karmastub.Slow, DelayMs: 2000}, Label: "slow (2 s)"}},
		}
		var all, outageNames []string
		for i, m := range modes {
			// An agent KARMA never scored: no cache can answer for it, so
			// its consumes reach the fallback in every mode.
			fresh := env.ID(fmt.Sprintf("gate-d-karma-fresh-%d", i))
			err := env.C.CreateAgent(ctx, fresh, 1000)
			harness.Ensure(err == nil, "the fresh KARMA agent %s must be created with 1000 credits: %v", fresh, err)
			// A live score on every instance just before the outage (each
			// instance of a cluster keeps its own cache).
			bases := env.C.Instances
			if len(bases) == 0 {
				bases = []string{""}
			}
			for j, base := range bases {
				env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: fmt.Sprintf("gate-d-karma-warm-%d-%d", i, j),
					Base: base, Body: map[string]any{"agent_id": agent, "amount": 1, "reason": "warm"}})
			}
			warmed := time.Now()
			fcBefore, counted := env.C.FallbackCount(ctx)
			_, err = env.Inject(ctx, m.f)
			harness.Injected(err, "the KARMA outage %q must start", m.name)
			resAt := time.Since(warmed)
			res := scenarios.Blackout(ctx, env.C, fmt.Sprintf("m%d", i), agent, 50, 1_000)
			fres := scenarios.Blackout(ctx, env.C, fmt.Sprintf("f%d", i), fresh, 20, 1_000)
			// The scored agent again, now that the never-scored one's calls
			// met the outage (a breaker, where there is one, is open): a
			// backend answering the scored agent from its cache without
			// calling KARMA reaches that state only here.
			// Late in the window, too: a cache that keeps a score for
			// seconds, not minutes, has forgotten it by then.
			time.Sleep(time.Until(warmed.Add(cacheWindow - 2*time.Second)))
			againAt := time.Since(warmed)
			again := scenarios.Blackout(ctx, env.C, fmt.Sprintf("m%db", i), agent, 10, 1_000)
			fcAfter, countedAfter := env.C.FallbackCount(ctx)
			_, err = env.Heal(ctx, m.f)
			harness.Ensure(err == nil, "the KARMA stub must serve healthy again on %s after %q: %v", env.Karma.Addr, m.name, err)
			outageNames = append(outageNames, m.f.Name())
			alive := env.C.Get(ctx, "/api/health")
			outages++
			if !alive.OK() {
				crashes++
			}
			badSource := 0
			for _, r := range []scenarios.BlackoutResult{res, fres, again} {
				for src, n := range r.Sources() {
					if src != "fallback" && src != "cache" {
						badSource += n
					}
				}
			}
			v := "KARMA " + m.name
			sent, acked := res.Requests+fres.Requests+again.Requests, res.OK+fres.OK+again.OK
			env.Record("D2", harness.Measure{OK: acked == sent, Samples: sent, Measured: acked,
				Threshold: sent, Detail: strings.Join(append(append(res.Failures, fres.Failures...), again.Failures...), "\n"), Variant: v})
			env.Record("D3", harness.Measure{OK: alive.OK(), Samples: 1, Measured: alive.Status, Threshold: 200,
				Detail: "a dependency outage must never crash the backend", Variant: v})
			env.Record("D4", harness.Measure{OK: badSource == 0, Samples: acked, Measured: fmt.Sprint(res.Sources(), " ", fres.Sources(), " ", again.Sources()), Threshold: "karma_source fallback|cache on every consume",
				Detail: fmt.Sprintf("%d successful consumes judged (a scored agent, then one KARMA never scored, then the scored one again)", acked), Variant: v})
			// Every consume of the scored agent within cacheWindow of its
			// live score, not only the first: a backend that skips its
			// cache once its breaker opens answers the first few from it.
			notCached, judged := []string{}, 0
			for _, run := range []struct {
				r     scenarios.BlackoutResult
				at    time.Duration // from the live score to the run's start
				label string
			}{{res, resAt, "first"}, {again, againAt, "after the never-scored agent's"}} {
				for k, a := range run.r.Answered {
					since := run.at + a.At
					if since > cacheWindow {
						break
					}
					judged++
					if a.Source != "cache" {
						notCached = append(notCached, fmt.Sprintf("#%d of the %s consumes, %s after the live score: %s", k+1, run.label, since.Round(time.Millisecond), a.Source))
					}
				}
			}
			env.Record("D47", harness.Measure{OK: len(notCached) == 0, Samples: judged, Measured: fmt.Sprintf("%d of %d not cache", len(notCached), judged), Threshold: "cache on every one",
				Detail: fmt.Sprintf("every consume within %s of its live score for an agent KARMA scored just before the outage, before and after an agent KARMA never scored met the outage (SPEC §5 falls back to the cached score, else 0.5; a cache that forgets a score within %s is none): first %s; %s",
					cacheWindow, cacheWindow, res.First(), strings.TrimSpace(firstN(notCached, 5))), Variant: v})
			// Every fallback score the backend served and journaled was
			// counted (a refused consume may count one more, never less).
			switch fallbacks := fres.Sources()["fallback"]; {
			case !counted || !countedAfter:
				env.Record("D45", harness.Measure{Detail: "GET /karma/status answered no numeric fallback_count", Variant: v})
			case fallbacks == 0:
				env.Record("D45", harness.Measure{Detail: fmt.Sprintf("no consume of the never-scored agent was answered with karma_source fallback (%v): nothing to count", fres.Sources()), Variant: v})
			default:
				env.Record("D45", harness.Measure{OK: fcAfter-fcBefore >= int64(fallbacks), Samples: fallbacks, Measured: fcAfter - fcBefore, Threshold: fmt.Sprintf("≥ %d", fallbacks),
					Detail: fmt.Sprintf("fallback_count %d → %d across the outage; %d consumes of the never-scored agent %s answered karma_source fallback (%v)", fcBefore, fcAfter, fallbacks, fresh, fres.Sources()), Variant: v})
			}
			maxLat := max(res.MaxLatency, fres.MaxLatency, again.MaxLatency)
			env.Record("D5", harness.Measure{OK: maxLat <= budget, Samples: sent, Measured: maxLat.Round(time.Millisecond).String(),
				Threshold: "≤ " + budget.String(), Detail: fmt.Sprintf("KARMA timeout %s + margin; P99 %s", karmaTimeout, res.P99.Round(time.Millisecond)), Variant: v})
			// Read after the never-scored agent's consumes, which met the
			// outage whatever the backend's cache spared the scored one.
			during := 0
			if fres.HealthDuring != "" {
				during = 1
			}
			env.Record("D6", harness.Measure{OK: fres.HealthDuring == "degraded", Samples: during, Measured: fres.HealthDuring, Threshold: "degraded",
				Detail: fmt.Sprintf("GET /api/health read once during the outage, after %d consumes of an agent KARMA never scored", fres.Requests), Variant: v})
			// The original's health route keeps its answer through a
			// KARMA outage (SPEC §6 table: 200, status "ok"; §5: an outage
			// never fails anything): a degraded state is said beside it.
			if oh := res.OriginalHealthDuring; oh.Status != 0 && oh.Status != 404 {
				env.Record("B46", harness.Measure{OK: oh.Status == 200 && oh.Str("status") == "ok", Samples: 1,
					Measured: fmt.Sprintf("%d status %q", oh.Status, oh.Str("status")), Threshold: `200, status "ok"`, Variant: "GET /health during a KARMA outage (" + v + ")",
					Detail: "GET /api/credits/health read once during the outage: " + string(oh.Raw[:min(len(oh.Raw), 300)])})
			}
			healthy := env.HealthyStates()
			st, took := env.C.WaitHealth(ctx, 20*time.Second, healthy...)
			env.Record("D7", harness.Measure{OK: slices.Contains(healthy, st), Samples: 1, Measured: fmt.Sprintf("%s after %s", st, took.Round(100*time.Millisecond)),
				Threshold: strings.Join(healthy, " or ") + " within 20s", Variant: v})
			// The agent KARMA never scored: no cached score can answer
			// for it, so once KARMA is back its score is live (a backend
			// may answer the scored agent from a cache still fresh).
			after := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: fmt.Sprintf("gate-d-karma-after-%d", i),
				Body: map[string]any{"agent_id": fresh, "amount": 1, "reason": "after"}})
			env.Record("D8", harness.Measure{OK: karmaSource(after) == "live", Samples: 1, Measured: karmaSource(after), Threshold: "live",
				Detail: string(after.Raw), Variant: v})
			all = append(all, fmt.Sprintf("%s: %d/%d ok, max %s", m.name, acked, sent, maxLat.Round(time.Millisecond)))
		}
		// By window: every consume whose call fell inside an outage.
		env.RecordFinding(audit.CheckServedDuringOutage(env.Ops(), env.Windows(), budget, outageNames...), "")
		env.SaveScenario(reports.Scenario{Name: "4 karma blackout", Status: harness.ScenarioStatus(crashes == 0 && !CurrentSpecReport().Failed()),
			InvariantsPassed: crashes == 0, Critical: crashes > 0, Detail: strings.Join(all, "; ")})
	})

	// SPEC §5: health shows KARMA degraded during a blackout — from its
	// first failed call, not only once a breaker opens (every blackout
	// above sends enough to open one).
	It("health says degraded from KARMA's first failed call, as GET /karma/status does", func(ctx SpecContext) {
		env.Require("D63")
		base := "" // one instance: its own KARMA client failed
		if len(env.C.Instances) > 0 {
			base = env.C.Instances[0]
		}
		fresh := env.ID("gate-d-karma-first-fail")
		err := env.C.CreateAgent(ctx, fresh, 100)
		harness.Ensure(err == nil, "the agent %s must be created with 100 credits: %v", fresh, err)
		f := &fault.KarmaMode{Stub: env.Karma.Stub, Mode: karmastub.Mode{Kind: karmastub.Error, Status: 500}, Label: "erroring (500), one call"}
		_, err = env.Inject(ctx, f)
		harness.Injected(err, "the KARMA stub must answer 500")
		c := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: "gate-d-karma-first-fail", Base: base,
			Body: map[string]any{"agent_id": fresh, "amount": 1, "reason": "one failed KARMA call"}})
		ks := env.C.Do(ctx, scenarios.Call{Method: "GET", Path: "/api/credits/karma/status", Base: base})
		h := env.C.HealthState(ctx)
		_, err = env.Heal(ctx, f)
		harness.Ensure(err == nil, "the KARMA stub must serve healthy again: %v", err)
		state := ks.Str("state")
		m := harness.Measure{OK: h == "degraded", Samples: 1, Measured: h, Threshold: "degraded",
			Detail: fmt.Sprintf("one consume of %s (%d, karma_source %q) against a KARMA answering 500; GET /karma/status then: %s", fresh, c.Status, karmaSource(c), strings.TrimSpace(string(ks.Raw)))}
		if state != "degraded" && state != "down" {
			m.Samples, m.Detail = 0, "GET /karma/status did not say degraded or down after the failed call, so health is not judged against it; "+m.Detail
		}
		env.Record("D63", m)
		st, took := env.C.WaitHealth(ctx, 20*time.Second, env.HealthyStates()...)
		harness.Ensure(slices.Contains(env.HealthyStates(), st), "health must recover by itself after KARMA does: %s after %s", st, took)
	})

	It("ML chaos: anomalous consumes are flagged, never blocked; the EoC score stays in bounds; no throttling", Label("critical"), func(ctx SpecContext) {
		ids := []string{"D9", "D10", "D11", "D12", "D13", "D14", "D15", "D16", "D17", "D48"}
		env.Require(ids...)
		notMeasured := func(why string) {
			for _, id := range ids {
				env.Record(id, harness.Measure{Detail: why})
			}
		}
		if !env.P.MLAnomalyInjection {
			notMeasured("anomaly injection is off (LIVE_TEST_ML_ANOMALY_INJECTION=false)")
			return
		}
		fund := scenarios.FundByApproval
		if !env.Routes.Has(catalog.ApprovalRequest) || !env.Routes.Has(catalog.Approve) {
			fund = scenarios.FundByAdds // adds below the threshold on a backend without approvals
		}
		res, err := scenarios.MLChaos(ctx, env.C, env.Rand("ml-chaos"), env.ID("gate-d-ml"), 40, fund)
		harness.Ensure(err == nil, "ML chaos must create and fund its agent with 20000 credits: %v", err)
		env.Record("D9", harness.Measure{OK: res.Blocked == 0, Samples: res.Anomalous, Measured: res.Blocked, Threshold: 0, Detail: "flagged, never blocked"})
		env.Record("D10", harness.Measure{OK: res.Throttled == 0, Samples: res.Anomalous, Measured: res.Throttled, Threshold: 0, Detail: "anomalies alone never throttle"})
		env.Record("D11", harness.Measure{OK: res.Flagged == res.Anomalous, Samples: res.Anomalous, Measured: fmt.Sprintf("%d of %d", res.Flagged, res.Anomalous),
			Threshold: "all", Detail: fmt.Sprintf("≥ 10× the agent's norm; %d answers carried metadata.anomaly_detected", res.Reported)})
		env.Record("D12", harness.Measure{OK: res.FalseFlags == 0, Samples: res.Normal, Measured: res.FalseFlags, Threshold: 0,
			Detail: fmt.Sprintf("%d normal consumes", res.Normal)})
		env.Record("D13", harness.Measure{OK: res.Big.OK(), Samples: 1, Measured: res.Big.Status, Threshold: "2xx", Detail: string(res.Big.Raw)})
		meta, _ := res.Big.Body["metadata"].(map[string]any)
		env.Record("D14", harness.Measure{OK: meta["anomaly_detected"] == true, Samples: 1, Measured: fmt.Sprint(meta["anomaly_detected"]),
			Threshold: "true", Detail: string(res.Big.Raw)})
		scores := fmt.Sprintf("%.3f–%.3f over %d samples", res.ScoreMin, res.ScoreMax, res.Samples)
		env.Record("D15", harness.Measure{OK: res.ScoreMin >= 0.3 && res.ScoreMax <= 0.7, Samples: res.Samples, Measured: scores,
			Threshold: "0.3–0.7", Detail: "sampled from GET /eoc during the chaos"})
		env.Record("D16", harness.Measure{OK: res.ScoreMin >= 0.1 && res.ScoreMax <= 0.9, Samples: res.Samples, Measured: scores, Threshold: "0.1–0.9"})
		env.Record("D17", harness.Measure{OK: res.Backpressure == 0, Samples: res.Samples, Measured: res.Backpressure, Threshold: 0,
			Detail: "max regulation.backpressure of GET /eoc during the chaos"})
		if env.Applies("D48") {
			// Our engine documents its minimum number of samples (5,
			// docs/anomaly-eoc.md): the warm-up stops exactly there. SPEC §5
			// names no number, so another backend gets ten.
			warm, why := 10, ""
			if env.TCfg.Kind.OwnEngine() {
				warm, why = 5, " (our engine's documented minimum number of samples)"
			}
			tenfold, err := scenarios.SteadyTenfold(ctx, env.C, env.ID("gate-d-ml-tenfold"), warm)
			harness.Ensure(err == nil, "the tenfold agent must be created and build its norm of %d × 5 credits: %v", warm, err)
			env.Record("D48", harness.Measure{OK: tenfold.OK() && tenfold.AnomalyDetected(), Samples: 1,
				Measured: fmt.Sprintf("%d anomaly_detected=%v", tenfold.Status, tenfold.AnomalyDetected()), Threshold: "2xx, anomaly_detected=true",
				Detail: fmt.Sprintf("%d consumes of exactly 5 credits%s, then one of exactly 50: SPEC scenario 5 flags consumes at 10× the norm. %s", warm, why, tenfold.Raw)})
		}
		env.SaveScenario(reports.Scenario{Name: "5 ml chaos", Status: harness.ScenarioStatus(res.Blocked == 0 && res.Throttled == 0 && res.Big.OK()),
			InvariantsPassed: res.Blocked == 0 && res.Throttled == 0, Errors: int64(res.Blocked + res.Throttled),
			Metrics: map[string]any{"anomalous": res.Anomalous, "flagged": res.Flagged, "score_min": res.ScoreMin, "score_max": res.ScoreMax}})
	})

	It("kill -9 mid-load loses no acknowledged mutation", Label("critical"), func(ctx SpecContext) {
		env.Require("D41", "D43", "A8", "A2")
		const variant = "kill -9 mid-load"
		agent := env.ID("gate-d-crash")
		err := env.C.CreateAgent(ctx, agent, 1000)
		harness.Ensure(err == nil, "the crash agent %s must be created with 1000 credits: %v", agent, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < 2000; i++ {
				r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: fmt.Sprintf("gate-d-crash-%04d", i),
					Agent: agent, AmountMilli: 100, Body: map[string]any{"agent_id": agent, "amount": 0.1, "reason": "crash"}})
				if r.Err != nil {
					return
				}
			}
		}()
		time.Sleep(300 * time.Millisecond)
		kill := &fault.Kill{T: env.T}
		_, err = env.Inject(ctx, kill)
		harness.Injected(err, "kill -9 of the backend mid-load must succeed")
		<-done
		_, err = env.Heal(ctx, kill)
		harness.Ensure(err == nil, "the backend must start again after kill -9: %v", err)

		// Black-box: the balance holds every acknowledged consume, and of
		// the unanswered ones at most all.
		acked, unknown := 0, 0
		for _, o := range env.Ops() {
			if o.Kind != history.KindConsume || o.Agent != agent {
				continue
			}
			switch {
			case o.Outcome.Acked():
				acked++
			case o.Outcome == history.Unknown:
				unknown++
			}
		}
		got, err := env.C.BalanceMilli(ctx, agent)
		hi, lo := int64(1_000_000-100*acked), int64(1_000_000-100*(acked+unknown))
		env.Record("D41", harness.Measure{OK: err == nil && got <= hi && got >= lo, Samples: acked, Measured: money.FormatMilli(got),
			Threshold: fmt.Sprintf("%s … %s", money.FormatMilli(lo), money.FormatMilli(hi)),
			Detail:    fmt.Sprintf("GET /balance after the restart; %d consumes of 0.1 acknowledged, %d unanswered (may or may not have applied); %v", acked, unknown, err)})
		if env.Applies("A8") || env.Applies("D43") {
			j := readJournal(ctx, env)
			env.RecordFinding(audit.CheckHistoryExact(j, env.Ops(), audit.HistoryOptions{}), variant)
			env.RecordFinding(audit.CheckSeqGapless(j), variant)
			env.RecordFinding(audit.CheckAckedSurvivedFaults(j, env.Ops(), env.Windows(), kill.Name()), variant)
		}
		env.SaveScenario(reports.Scenario{Name: "6 crash replay", Status: harness.ScenarioStatus(!CurrentSpecReport().Failed()),
			InvariantsPassed: !CurrentSpecReport().Failed(), Metrics: map[string]any{"acknowledged": acked, "unanswered": unknown}})
	})
	It("a kill -9 at rest keeps every acknowledged write, key and event id: judged from the answers alone", Label("critical"), func(ctx SpecContext) {
		env.Require("D55", "D56", "D68", "D58", "D59", "A11", "A30", "B13", "B17")
		const variant = "across a kill -9"
		cfg := scenarios.DefaultBlackBox()
		cfg.Prefix = "gate-d-rt"
		first, err := scenarios.BlackBox(ctx, env.C, env.Rand("restart-round-trip"), cfg)
		harness.Ensure(err == nil, "the black-box workload before the kill -9 could not run: %v", err)
		var once *onceOnly
		if env.Applies("D58") {
			once = onceOnlyBefore(ctx, env)
		}
		var views *restartViews
		if env.Applies("D59") && len(first.Agents) >= 2 {
			agents, mission := append([]string(nil), first.Agents...), ""
			if once != nil {
				agents = append(agents, once.collabAgents...)
				agents = append(agents, once.missionAgent)
				mission = once.mission
			}
			pool, approval, missionRef := viewFixtures(ctx, env, agents[0], agents[1])
			if missionRef != "" {
				agents = append(agents, missionRef)
			}
			views = &restartViews{paths: viewPaths(env, agents, mission, pool, approval)}
		}
		// The newest keys, the last writes before the kill (only reads come
		// between): resent with the rest after it. A backend that writes a
		// key down only when the next command comes loses these.
		last, err := scenarios.BlackBoxLast(ctx, env.C, first)
		harness.Ensure(err == nil, "the last keyed writes before the kill -9 could not run: %v", err)
		first.Ops = append(first.Ops, last...)
		if views != nil {
			views.before = views.read(ctx, env)
		}
		before, hasBefore := journalTotal(ctx, env)
		kill := &fault.Kill{T: env.T}
		_, err = env.Inject(ctx, kill)
		harness.Injected(err, "kill -9 of the backend at rest must succeed")
		started := time.Now()
		_, err = env.Heal(ctx, kill)
		harness.Ensure(err == nil, "the backend must start again after kill -9: %v", err)
		env.Record("D68", replayTimed(ctx, env, started, time.Now()))
		if views != nil {
			env.Record("D59", views.compare(ctx, env))
		}
		after, hasAfter := journalTotal(ctx, env)
		second, err := scenarios.BlackBoxAgain(ctx, env.C, env.Rand("restart-round-trip-again"), first)
		harness.Ensure(err == nil, "the black-box workload after the kill -9 could not run: %v", err)

		// A keyed retry of every acknowledged write of the first half, new
		// writes, the snapshot: the black-box judge over both halves.
		ops := append(append([]audit.Op(nil), first.Ops...), second.Ops...)
		env.RecordFindings(harness.Only(audit.BlackBox(ops, second.Snapshot), "A11", "A30", "B13", "B17"), variant)
		env.RecordFinding(audit.EventIDsOfAnswers(ops), variant)
		m := harness.Measure{OK: !hasBefore || !hasAfter || after >= before, Measured: fmt.Sprintf("%d → %d", before, after), Threshold: "never less after the restart",
			Detail: "journal.total_events of GET /api/credits/metrics read right before the kill -9 (nothing in flight) and right after the restart: the journal kept every event, so its count cannot go back"}
		if hasBefore && hasAfter {
			m.Samples = 1
		} else {
			m.Detail += "; the answer carried no journal.total_events number"
		}
		env.Record("D56", m)
		if once != nil {
			env.Record("D58", once.after(ctx, env))
		}
	})

	// Runs last: it destroys acknowledged lines on purpose, so history checks
	// of the other specs could no longer hold afterwards.
	if journalFileApplies {
		It("journal corruption is recovered as §3 says: nothing acknowledged lost but destroyed lines, and those reported", func(ctx SpecContext) {
			env.Require("D18", "D19", "D20", "D21", "D22", "D23", "D24", "D25", "D26", "D61", "D62", "D42", "D49", "D50", "D64", "D65", "D67", "A1")
			agent := env.ID("gate-d-journal")
			err := env.C.CreateAgent(ctx, agent, 1000)
			harness.Ensure(err == nil, "the corruption agent %s must be created with 1000 credits: %v", agent, err)
			// A journal longer than a sparse seq→offset index's stride (a
			// thousand lines or so), so a backend that indexes offsets has
			// entries past the damage for D49 to page through.
			if env.Applies("D49") {
				filler := env.ID("gate-d-journal-fill")
				err := env.C.CreateAgent(ctx, filler, 10)
				harness.Ensure(err == nil, "the filler agent %s must be created with 10 credits: %v", filler, err)
				failed := env.C.Fill(ctx, filler, 2500, 8, 1, "gate-d-fill")
				harness.Ensure(failed == 0, "all 2500 keyed filler consumes of 0.001 must be acknowledged; %d were not", failed)
			}
			// The money case first: on a journal no earlier case left
			// degraded, so its health (D21) speaks for it alone too.
			var cases []corruptCase
			if env.Routes.Has(catalog.Consume) && env.Routes.Has(catalog.Balance) {
				cases = append(cases, moneyCase(env, agent))
			}
			for _, c := range corrupt.Table {
				cases = append(cases, corruptCase{c: c})
			}
			// Deterministic cases aimed at the first line of an entity: every
			// later event about it depends on a line recovery must quarantine.
			// Only for the entities whose routes the backend serves.
			cases = append(cases, birthCases(env, agent)...)
			// D42, black-box: cases where a write was visibly lost or refused,
			// and of those the ones health did not report.
			visible, tornCut, silent := 0, 0, []string{}
			// D50: the quarantine file (SPEC §3: credits.jsonl.quarantine)
			// is the only record of the lines recovery moved out; each
			// recovery must keep what the earlier ones put there.
			quarantined := quarantineKeeper{path: env.T.JournalPath() + ".quarantine"}
			for ci, cc := range cases {
				// Fresh acknowledged writes so every corruptor hits real events.
				for i := 0; i < 12; i++ {
					r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume,
						Key: fmt.Sprintf("gate-d-c%d-%02d", ci, i), Body: map[string]any{"agent_id": agent, "amount": 0.25, "reason": "pre-corruption"}})
					harness.Accepted(r, "a consume of 0.25 before corruption %d", ci)
				}
				c := cc.c
				watched := []string{agent}
				if cc.setup != nil {
					c = cc.setup(ctx, ci)
					watched = append(watched, cc.agents(ci)...)
				}
				lowRequest := "" // the request whose command the torn line ends
				if cc.setup == nil && slices.ContainsFunc(corrupt.TornTails, func(t corrupt.Corruptor) bool { return t.Name == c.Name }) && env.Routes.Has(catalog.ApprovalRequest) {
					// The torn line ends a command of several events (a
					// LOW request, approved and executed at once): what
					// the cut takes is the whole unacknowledged command,
					// and its sidecar keeps every line of it (D65).
					id, r := env.C.RequestApproval(ctx, agent, "gate-d-requester", 1000, "", fmt.Sprintf("gate-d-c%d-low", ci))
					harness.Ensure(id != "" && r.OK() && r.Str("status") == "approved",
						"a LOW request (1 credit) must be approved and executed at once before %s: got %d %s", c.Name, r.Status, r.Raw)
					lowRequest = id
				}
				preJournal := readJournal(ctx, env)
				pre := keysBySeq(preJournal)
				balances := readBalances(ctx, env, watched)
				damage := &fault.Corruption{T: env.T, Path: env.T.JournalPath(), C: c, Rand: rand.New(rand.NewPCG(env.P.Seed, uint64(ci)))}
				sidecarsBefore := tornSidecars(env.T.JournalPath())
				_, err := env.Inject(ctx, damage) // a clean stop, then the damage
				d := damage.Damage
				var torn, damaged []byte // the damaged last line, which recovery must keep aside, and the damaged file
				if err == nil && d.Expect == corrupt.ExpectTorn {
					torn = lineOf(env.T.JournalPath(), d.Line)
					damaged, _ = os.ReadFile(env.T.JournalPath())
				}
				if err == nil && d.Line == 0 && cc.setup != nil {
					// A foreign journal schema may have no such first line
					// (e.g. no agent.registered events): nothing was damaged.
					_, err = env.Heal(ctx, damage)
					harness.Ensure(err == nil, "the backend must start again on its undamaged journal: %v", err)
					why := "the journal holds no line " + c.Name + " could aim at (a journal schema without that event): nothing was damaged"
					if cc.judge != nil {
						env.Record("D61", harness.Measure{Detail: why, Variant: c.Name})
						continue
					}
					env.Record("D22", harness.Measure{Detail: why, Variant: c.Name})
					env.Record("D23", harness.Measure{Detail: why, Variant: c.Name})
					continue
				}
				harness.Injected(err, "damaging the journal (%s)", c.Name)
				harness.Ensure(d.Line > 0, "the backend must stop cleanly and %s must damage a line of the journal: line %d", c.Name, d.Line)
				_, serr := env.Heal(ctx, damage) // starts on the damaged journal
				env.Record("D18", harness.Measure{OK: serr == nil, Samples: 1, Measured: fmt.Sprint(serr), Threshold: "starts",
					Detail: "never stuck: lost lines and the events depending on them are quarantined and reported, the rest replays", Variant: c.Name})
				quarantined.after(c.Name, d)
				if d.Expect == corrupt.ExpectTorn && serr == nil {
					m := sidecarKept(env.T.JournalPath(), sidecarsBefore, cutBytes(env.T.JournalPath(), damaged, torn), c.Name)
					// A backend that took the damaged last line for damage in
					// the middle (quarantined, D20 judges that) kept no
					// sidecar because it cut no tail: judged only where its
					// report or a new file says it cut one.
					if v := env.C.Get(ctx, "/api/credits/journal/verify"); !m.OK && m.Measured == "none" && !(v.OK() && reportsTorn(v.Body)) {
						m = harness.Measure{Variant: c.Name, Detail: "the recovery report names no torn tail for this case (the backend treated the damaged last line otherwise, judged by D20): no sidecar to judge"}
					}
					env.Record("D65", m)
					if lowRequest != "" && m.Samples > 0 {
						env.Record("D67", commandCutWhole(preJournal, readJournal(ctx, env), d.TornSeq, lowRequest, c.Name))
					}
				}

				post := readJournal(ctx, env)
				if env.Applies("D69") {
					env.Record("D69", eventsCounted(ctx, env, len(post.Events()), c.Name))
				}
				present := map[string]bool{}
				for _, e := range post.Events() {
					present[e.IdempotencyKey] = true
				}
				destroyed := map[uint64]bool{}
				for _, s := range d.DestroyedSeqs {
					destroyed[s] = true
				}
				if d.Expect == corrupt.ExpectTorn {
					// A torn tail is an unacknowledged write: the command
					// it ends goes whole (SPEC §3 cuts it, §2 keeps a
					// command's events together).
					for _, s := range commandOf(preJournal, d.TornSeq) {
						destroyed[s] = true
					}
				}
				var lost []string
				for seq, key := range pre {
					if !present[key] && !destroyed[seq] {
						lost = append(lost, fmt.Sprintf("seq %d key %s", seq, key))
					}
				}
				sort.Strings(lost)
				env.Record("D19", harness.Measure{OK: len(lost) == 0, Samples: len(pre), Measured: len(lost), Threshold: 0,
					Detail: fmt.Sprintf("%d acknowledged events before the damage, %d destroyed\n%s", len(pre), len(d.DestroyedSeqs), strings.Join(lost, "\n")), Variant: c.Name})

				// Damage that is not reported is silent loss: critical.
				v := env.C.Get(ctx, "/api/credits/journal/verify")
				ours := env.TCfg.Kind.OwnEngine()
				reported, how := reportedDamage(v.Raw, d)
				if !reported && !ours {
					// SPEC §3 asks for the report, not its shape.
					reported, how = reportedAnywhere(v.Raw, d)
				}
				env.Record("D20", harness.Measure{OK: reported, Samples: 1, Measured: how, Threshold: string(d.Expect) + " at line " + fmt.Sprint(d.Line),
					Detail: string(v.Raw), Variant: c.Name})
				if env.Applies("D62") {
					env.Record("D62", integrityCounted(ctx, env, v.Raw, d, ours, c.Name))
				}
				h := env.C.HealthState(ctx)
				d21 := harness.Measure{OK: h == "degraded", Samples: 1, Measured: h, Threshold: "degraded",
					Detail: "a repaired journal is reported, never silent", Variant: c.Name}
				if !ours && d.Expect == corrupt.ExpectTorn {
					// SPEC §3 makes quarantine degraded; of a cut torn tail
					// (an unacknowledged write) it asks only the sidecar.
					d21.Samples, d21.Detail = 0, "SPEC §3 asks health to say degraded after a quarantine, not after a torn tail was cut (our engine's rule)"
				}
				env.Record("D21", d21)
				changed := changedBalances(ctx, env, balances)
				refused := false
				if d.EntityID != "" {
					ok, how := reportedLost(v.Raw, d)
					d22 := harness.Measure{OK: ok, Samples: 1, Measured: how,
						Threshold: fmt.Sprintf("%s %s lost in line %d, dependents listed", d.EntityKind, d.EntityID, d.Line), Detail: string(v.Raw), Variant: c.Name}
					if !ok && !ours {
						// Naming the lost entity and its dependents is our
						// engine's report; another's is judged only if it
						// names the entity at all.
						if bytes.Contains(v.Raw, []byte(strconv.Quote(d.EntityID))) {
							d22.OK, d22.Measured = true, d.EntityKind+" "+d.EntityID+" named in the report"
						} else {
							d22.Samples, d22.Detail = 0, "the report names no lost entity (our engine's lost_entities is beyond SPEC §3): "+string(v.Raw)
						}
					}
					env.Record("D22", d22)
					probe := cc.probe(ctx, ci)
					refused = !probe.OK()
					d23 := harness.Measure{OK: probe.Status == 409 && probe.Code() == "entity_quarantined", Samples: 1,
						Measured: fmt.Sprintf("%d %s", probe.Status, probe.Code()), Threshold: "409 entity_quarantined", Detail: string(probe.Raw), Variant: c.Name}
					if !ours {
						// Refused, not built on: any 4xx (the code is ours).
						d23.OK, d23.Threshold = probe.Status >= 400 && probe.Status < 500, "4xx (a refusal, whatever its code)"
					}
					env.Record("D23", d23)
				}
				if cc.judge != nil {
					m := cc.judge(ctx, ci)
					m.Variant = c.Name
					env.Record("D61", m)
				}
				// A line left unparseable after recovery is where the next append
				// would be glued on and lost: critical.
				env.RecordFinding(audit.CheckLines(post), c.Name+", after recovery")
				// The stream a client pages by after_seq is the recovered file,
				// byte for byte: recovery moved lines, so any offsets it keeps
				// must be the new file's.
				if env.Applies("D49") {
					env.Record("D49", pagedEqualsFile(ctx, env, "recovery from "+c.Name, c.Name))
				}

				// The next append must land on a clean line and survive a restart
				// (the original glued it onto the torn tail and lost it).
				next := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume,
					Key: fmt.Sprintf("gate-d-c%d-next", ci), Body: map[string]any{"agent_id": agent, "amount": 0.25, "reason": "after recovery"}})
				refused = refused || !next.OK()
				if len(changed) > 0 || refused {
					switch {
					case !ours && d.Expect == corrupt.ExpectTorn:
						// SPEC §3: a damaged last line is a torn tail, an
						// unacknowledged write, cut with a sidecar and no
						// word to health (as D21 above); our engine says
						// degraded all the same.
						tornCut++
					case h == "healthy" || h == "ok":
						visible++
						silent = append(silent, fmt.Sprintf("%s: health %q with balances changed %v, refused=%t", c.Name, h, changed, refused))
					default:
						visible++
					}
				}
				env.Record("D24", harness.Measure{OK: next.OK(), Samples: 1, Measured: next.Status, Threshold: "2xx", Detail: string(next.Raw), Variant: c.Name})
				if d.Expect == corrupt.ExpectTorn && env.Applies("D49") {
					// Appends after a recovery that cut the file's tail: a
					// backend that indexes offsets must index them where they
					// landed, not from the size before the cut — more of them
					// than a sparse index's stride, paged again.
					filler := env.ID("gate-d-journal-fill")
					failed := env.C.Fill(ctx, filler, 1100, 8, 1, fmt.Sprintf("gate-d-c%d-fill", ci))
					harness.Ensure(failed == 0, "all 1100 keyed consumes of 0.001 after the recovery must be acknowledged; %d were not", failed)
					env.Record("D49", pagedEqualsFile(ctx, env, "1100 appends following the recovery from "+c.Name, c.Name+", after 1100 appends"))
				}
				// What the clean restart must keep, read from the answers: a
				// backend that numbers its appends after a recovery from what
				// it kept (not from the last seq) writes seqs its next replay
				// drops, while the file still holds the line (D26 below).
				held := readBalances(ctx, env, watched)
				restart := &fault.Restart{T: env.T}
				_, err = env.Inject(ctx, restart)
				harness.Injected(err, "the backend must stop cleanly after the append (%s)", c.Name)
				_, serr = env.Heal(ctx, restart)
				env.Record("D25", harness.Measure{OK: serr == nil, Samples: 1, Measured: fmt.Sprint(serr), Threshold: "starts", Variant: c.Name})
				again := readJournal(ctx, env)
				found := false
				for _, e := range again.Events() {
					found = found || e.EventID == next.Str("event_id")
				}
				moved := changedBalances(ctx, env, held)
				env.Record("D26", harness.Measure{OK: found && len(moved) == 0, Samples: 1,
					Measured:  fmt.Sprintf("in the journal: %t; balances moved by the restart: %d", found, len(moved)),
					Threshold: "in the journal, no balance moved",
					Detail:    fmt.Sprintf("event %s of the append after recovery, then a clean restart\n%s", next.Str("event_id"), strings.Join(moved, "\n")), Variant: c.Name})
				env.RecordFinding(audit.CheckLines(again), c.Name+", after restart")
			}
			env.Record("D50", quarantined.measure())
			env.Record("D64", quarantined.measureEntries())
			env.Record("D42", harness.Measure{OK: len(silent) == 0, Samples: visible, Measured: len(silent), Threshold: 0,
				Detail: fmt.Sprintf("%d of %d corruptions visibly lost a write (a balance changed across the restart) or refused one; health must not say healthy after any of them "+
					"(%d more lost the damaged last line, which SPEC §3 lets another backend cut as a torn tail without a word to health)\n%s",
					visible, len(cases), tornCut, strings.Join(silent, "\n"))})
		})
	}

})

// tornSidecars lists the files beside the journal whose name holds "torn"
// (SPEC §3: credits.jsonl.torn-<time>).
func tornSidecars(journal string) map[string]bool {
	out := map[string]bool{}
	ents, _ := os.ReadDir(filepath.Dir(journal))
	for _, e := range ents {
		if !e.IsDir() && strings.Contains(strings.ToLower(e.Name()), "torn") {
			out[e.Name()] = true
		}
	}
	return out
}

// reportsTorn reports whether a recovery report names a torn tail: a
// member whose name holds "torn" with a value set, at any depth.
func reportsTorn(v any) bool {
	return reportHas(v, func(name string, val any) bool { return strings.Contains(name, "torn") && setValue(val) })
}

// reportHas reports whether any member of a decoded JSON report, at any
// depth, satisfies match (given its lower-cased name and its value).
func reportHas(v any, match func(name string, val any) bool) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if match(strings.ToLower(k), val) || reportHas(val, match) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if reportHas(e, match) {
				return true
			}
		}
	}
	return false
}

// setValue is a report value that says something: not null, empty, zero
// or false.
func setValue(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case string:
		return x != ""
	case float64:
		return x > 0
	case bool:
		return x
	}
	return false
}

// lineOf is line n (1-based) of the file, without its newline; nil when
// the file has no such line.
func lineOf(path string, n int) []byte {
	b, err := os.ReadFile(path)
	if err != nil || n < 1 {
		return nil
	}
	i := 0
	for l := range bytes.Lines(b) {
		if i++; i == n {
			return bytes.TrimSuffix(l, []byte{'\n'})
		}
	}
	return nil
}

// commandOf is the seqs of the command whose last event is seq: the
// events before it in the journal carrying its correlation id, back to
// the first that does not.
func commandOf(j *audit.Journal, seq uint64) []uint64 {
	evs := j.Events()
	i := slices.IndexFunc(evs, func(e *audit.Event) bool { return e.Seq == seq })
	if i < 0 || evs[i].CorrelationID == "" {
		return nil
	}
	var out []uint64
	for k := i - 1; k >= 0 && evs[k].CorrelationID == evs[i].CorrelationID; k-- {
		out = append(out, evs[k].Seq)
	}
	return out
}

// commandCutWhole judges D67 after a recovery that cut a torn tail: no
// event of the command the torn line (seq torn) ended stays in the
// journal — request is the LOW request that command made.
func commandCutWhole(pre, post *audit.Journal, torn uint64, request, variant string) harness.Measure {
	m := harness.Measure{Threshold: "none of the torn command's events stays", Variant: variant}
	rest := commandOf(pre, torn)
	if len(rest) == 0 {
		m.Detail = fmt.Sprintf("the torn line (seq %d) is its command's only event in this journal: nothing to cut with it", torn)
		return m
	}
	ids := map[string]*audit.Event{}
	for _, e := range pre.Events() {
		if slices.Contains(rest, e.Seq) {
			ids[e.EventID] = e
		}
	}
	var kept []string
	for _, e := range post.Events() {
		if p := ids[e.EventID]; p != nil {
			kept = append(kept, fmt.Sprintf("seq %d %s %s", p.Seq, p.EventType, p.EventID))
		}
	}
	m.OK, m.Samples, m.Measured = len(kept) == 0, len(rest), len(kept)
	m.Detail = fmt.Sprintf("the torn line (seq %d) ended the command of request %s, %d events before it; kept after the cut: %v", torn, request, len(rest), kept)
	return m
}

// cutBytes is what a torn-tail recovery cut from the damaged file: its
// bytes past the last line boundary the recovered file still shares with
// it (lines appended since differ from them), without the final newline —
// the torn line and the lines of its command cut with it. torn alone where
// the recovered file shares less than the damaged one's lines before the
// torn line (it was rewritten, not cut).
func cutBytes(journal string, damaged, torn []byte) []byte {
	now, err := os.ReadFile(journal)
	if err != nil || len(damaged) == 0 {
		return torn
	}
	n := 0
	for n < len(now) && n < len(damaged) && now[n] == damaged[n] {
		n++
	}
	n = bytes.LastIndexByte(damaged[:n], '\n') + 1
	cut := bytes.TrimSuffix(damaged[n:], []byte{'\n'})
	if !bytes.HasSuffix(cut, torn) {
		return torn
	}
	return cut
}

// sidecarKept judges D65 after a recovery from a torn tail: a sidecar that
// was not there before holds the bytes cut (the torn line and the lines of
// its command).
func sidecarKept(journal string, before map[string]bool, torn []byte, variant string) harness.Measure {
	m := harness.Measure{Threshold: "a new sidecar holding the cut lines", Variant: variant}
	if len(torn) == 0 {
		m.Detail = "the damaged journal had no last line to keep"
		return m
	}
	m.Samples = 1
	var names []string
	for name := range tornSidecars(journal) {
		if before[name] {
			continue
		}
		names = append(names, name)
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(journal), name)); err == nil && bytes.Contains(b, torn) {
			m.OK, m.Measured = true, name
			m.Detail = fmt.Sprintf("%s holds the %d bytes cut (%d lines)", name, len(torn), bytes.Count(torn, []byte{'\n'})+1)
			return m
		}
	}
	sort.Strings(names)
	m.Measured = "none"
	m.Detail = fmt.Sprintf("after recovery from %s, no new file beside %s whose name holds \"torn\" holds the %d lines cut (%d bytes: %.200q); new such files: %v",
		variant, filepath.Base(journal), bytes.Count(torn, []byte{'\n'})+1, len(torn), torn, names)
	return m
}

// quarantineKeeper follows the quarantine file across the recoveries of
// the corruption table: after each, every line an earlier recovery wrote
// must still be in it (in any order: a backend may rewrite the file, never
// drop from it).
//
// It also judges what each quarantine added (D64): an entry naming the
// damaged line by its 1-based number in the damaged journal, with a
// reason.
type quarantineKeeper struct {
	path    string
	seen    map[string]string // line → the case after which it was first seen (until it is lost)
	judged  int               // recoveries that had earlier lines to keep
	dropped []string
	entries int      // quarantine cases whose new entries were judged
	wrong   []string // cases with no entry naming their damaged line with a reason
	absent  []string // quarantine cases after which the file did not exist
}

func (q *quarantineKeeper) after(caseName string, d corrupt.Damage) {
	b, err := os.ReadFile(q.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		q.dropped = append(q.dropped, fmt.Sprintf("after %s: the quarantine file cannot be read: %v", caseName, err))
		return
	}
	now := map[string]bool{}
	for l := range bytes.Lines(b) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			now[string(l)] = true
		}
	}
	if len(q.seen) > 0 {
		q.judged++
	}
	var lost []string
	for l, first := range q.seen {
		if !now[l] {
			lost = append(lost, fmt.Sprintf("after %s: a line quarantined by %s is gone: %.120s", caseName, first, l))
			delete(q.seen, l) // counted once
		}
	}
	sort.Strings(lost)
	q.dropped = append(q.dropped, lost...)
	if q.seen == nil {
		q.seen = map[string]string{}
	}
	var added []string
	for l := range now {
		if _, ok := q.seen[l]; !ok {
			q.seen[l] = caseName
			added = append(added, l)
		}
	}
	if d.Expect != corrupt.ExpectQuarantine || d.Line == 0 {
		return
	}
	if len(now) == 0 {
		q.absent = append(q.absent, caseName)
		return
	}
	q.entries++
	if why := audit.QuarantineEntryFor(added, d.Line); why != "" {
		q.wrong = append(q.wrong, fmt.Sprintf("after %s (line %d damaged): %s", caseName, d.Line, why))
	}
}

func (q *quarantineKeeper) measureEntries() harness.Measure {
	m := harness.Measure{OK: len(q.wrong) == 0, Samples: q.entries, Measured: len(q.wrong), Threshold: 0,
		Detail: fmt.Sprintf("%s read after each of %d recoveries that quarantined a line the harness damaged (SPEC §3: \"with line number and reason\")\n%s",
			filepath.Base(q.path), q.entries, firstN(q.wrong, 10))}
	if q.entries == 0 && len(q.absent) > 0 {
		m.Detail = fmt.Sprintf("no quarantine file at %s after %s (SPEC §3 names it: the journal's name + .quarantine), so its entries cannot be judged", q.path, strings.Join(q.absent, ", "))
	}
	return m
}

func (q *quarantineKeeper) measure() harness.Measure {
	return harness.Measure{OK: len(q.dropped) == 0, Samples: q.judged, Measured: len(q.dropped), Threshold: 0,
		Detail: fmt.Sprintf("%s read after each of %d recoveries that had earlier quarantined lines to keep (%d lines kept at the end)\n%s",
			filepath.Base(q.path), q.judged, len(q.seen), firstN(q.dropped, 10))}
}

// readBalances reads the agents' balances (absent: not served).
func readBalances(ctx context.Context, env *harness.Env, agents []string) map[string]string {
	out := map[string]string{}
	for _, a := range agents {
		r := env.C.Get(ctx, "/api/credits/balance/"+a)
		out[a] = fmt.Sprintf("%d %v", r.Status, r.Body["balance"])
	}
	return out
}

// changedBalances lists the agents whose balance answer differs from before.
func changedBalances(ctx context.Context, env *harness.Env, before map[string]string) []string {
	var out []string
	now := readBalances(ctx, env, slices.Sorted(maps.Keys(before)))
	for _, a := range slices.Sorted(maps.Keys(before)) {
		if now[a] != before[a] {
			out = append(out, fmt.Sprintf("%s %s → %s", a, before[a], now[a]))
		}
	}
	return out
}

// corruptCase is one row of the corruption table: a fixed corruptor, or a
// setup that creates an entity and returns a corruptor aimed at its first
// line, with a probe that tries a new event on that entity after recovery
// and the agents whose balances the damage may change.
type corruptCase struct {
	c      corrupt.Corruptor
	setup  func(ctx context.Context, ci int) corrupt.Corruptor
	probe  func(ctx context.Context, ci int) scenarios.Reply
	agents func(ci int) []string
	routes []string // what the setup and the probe call
	// judge, when set, measures D61 right after the recovery.
	judge func(ctx context.Context, ci int) harness.Measure
}

// moneyCase aims the corruption at a consume of 0.25 by a fresh agent of
// 100 credits, changing a digit of its amount so the line still parses:
// after recovery the agent holds 99.75 (the line kept as written) or 100
// (the line left out, SPEC §3's quarantine), never another amount — a
// backend that replays a line its checksum refutes turns the flip into money.
func moneyCase(env *harness.Env, agent string) corruptCase {
	id := func(ci int) string { return env.ID(fmt.Sprintf("gate-d-money-%d", ci)) }
	return corruptCase{
		setup: func(ctx context.Context, ci int) corrupt.Corruptor {
			err := env.C.CreateAgent(ctx, id(ci), 100)
			harness.Ensure(err == nil, "the money fixture %s must be created with 100 credits: %v", id(ci), err)
			r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: "gate-d-money",
				Body: map[string]any{"agent_id": id(ci), "amount": 0.25, "reason": "the line to change"}})
			harness.Accepted(r, "the money fixture's consume of 0.25")
			// Not the last line: that would be a torn tail.
			r = env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: "gate-d-money-after",
				Body: map[string]any{"agent_id": agent, "amount": 0.25, "reason": "after the line to change"}})
			harness.Accepted(r, "a consume after the money fixture's")
			return corrupt.AmountOf(id(ci))
		},
		agents: func(ci int) []string { return []string{id(ci)} },
		judge: func(ctx context.Context, ci int) harness.Measure {
			got, err := env.C.BalanceMilli(ctx, id(ci))
			return harness.Measure{OK: err == nil && (got == 99_750 || got == 100_000), Samples: 1,
				Measured: money.FormatMilli(got), Threshold: "99.75 (kept as written) or 100 (left out)",
				Detail: fmt.Sprintf("%s consumed 0.25 of its 100 credits; a digit of that consume's amount was changed in the journal, the line still valid JSON; GET /balance after recovery: %v", id(ci), err)}
		},
	}
}

// birthCases build, for each kind of entity whose routes the backend
// serves, the entity with a few events depending on it, and aim the
// corruption at its first line.
func birthCases(env *harness.Env, agent string) []corruptCase {
	post := func(ctx context.Context, path, kind, key string, body map[string]any) scenarios.Reply {
		r := env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits" + path, Key: key, Body: body}) // kind inferred from the path
		harness.Accepted(r, "the %s fixture POST %s", kind, path)
		return r
	}
	id := func(kind string, ci int) string { return env.ID(fmt.Sprintf("gate-d-born-%s-%d", kind, ci)) }
	none := func(int) []string { return nil }
	var approval string
	all := []corruptCase{
		{
			routes: []string{catalog.Agents, catalog.Consume},
			setup: func(ctx context.Context, ci int) corrupt.Corruptor {
				a := id("agent", ci)
				post(ctx, "/agents", "agent", "gate-d-born-agent", map[string]any{"agent_id": a, "skill_level": 0.5})
				for i := range 3 {
					post(ctx, "/consume", "consume", fmt.Sprintf("gate-d-born-agent-%d", i), map[string]any{"agent_id": a, "amount": 1, "reason": "dependent"})
				}
				return corrupt.FirstLine("agent", "agent.registered", "agent_id", a)
			},
			probe: func(ctx context.Context, ci int) scenarios.Reply {
				return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Key: "gate-d-born-agent-probe",
					Body: map[string]any{"agent_id": id("agent", ci), "amount": 1, "reason": "probe"}})
			},
			agents: func(ci int) []string { return []string{id("agent", ci)} },
		},
		{
			routes: []string{catalog.ApprovalRequest, catalog.Approve, catalog.Reject},
			setup: func(ctx context.Context, ci int) corrupt.Corruptor {
				var r scenarios.Reply
				approval, r = env.C.RequestApproval(ctx, agent, "gate-d-requester", 600_000, "", "gate-d-born-approval")
				harness.Ensure(approval != "", "the approval fixture POST /approvals must open a request: got %d %s", r.Status, r.Raw)
				d := env.C.Decide(ctx, approval, "gate-d-approver", true, "dependent", "gate-d-born-approval-dec")
				harness.Accepted(d, "the approval fixture's decision")
				return corrupt.FirstLine("approval", "approval.requested", "request_id", approval)
			},
			probe: func(ctx context.Context, ci int) scenarios.Reply {
				return env.C.Decide(ctx, approval, "gate-d-approver-2", false, "probe", "gate-d-born-approval-probe")
			},
			agents: none,
		},
		{
			routes: []string{catalog.PoolCreate, catalog.PoolAllocate, catalog.PoolConsume},
			setup: func(ctx context.Context, ci int) corrupt.Corruptor {
				p := id("pool", ci)
				post(ctx, "/pools", "pool_create", "gate-d-born-pool", map[string]any{"pool_id": p, "name": "born", "members": []string{agent}})
				post(ctx, "/pools/"+p+"/allocate", "pool_allocate", "gate-d-born-pool-alloc", map[string]any{"amount": 20, "reason": "dependent"})
				post(ctx, "/pools/"+p+"/consume", "pool_consume", "gate-d-born-pool-use", map[string]any{"agent_id": agent, "amount": 5, "reason": "dependent"})
				return corrupt.FirstLine("pool", "pool.created", "pool_id", p)
			},
			probe: func(ctx context.Context, ci int) scenarios.Reply {
				return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/pools/" + id("pool", ci) + "/allocate",
					Key: "gate-d-born-pool-probe", Body: map[string]any{"amount": 1, "reason": "probe"}})
			},
			agents: none,
		},
		{
			routes: []string{catalog.MissionStart, catalog.MissionComplete, catalog.MissionRate},
			setup: func(ctx context.Context, ci int) corrupt.Corruptor {
				m := id("mission", ci)
				post(ctx, "/missions", "mission_start", "gate-d-born-mission", map[string]any{"mission_id": m, "agent_id": agent,
					"mission_type": "general", "complexity": "low"})
				post(ctx, "/missions/"+m+"/complete", "mission_complete", "gate-d-born-mission-end", map[string]any{"actual_cost": 1})
				return corrupt.FirstLine("mission", "mission.started", "mission_id", m)
			},
			probe: func(ctx context.Context, ci int) scenarios.Reply {
				return env.C.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/missions/" + id("mission", ci) + "/rate",
					Key: "gate-d-born-mission-probe", Body: map[string]any{"rating": 0.5}})
			},
			agents: none,
		},
	}
	var out []corruptCase
	for _, c := range all {
		served := true
		for _, r := range c.routes {
			served = served && env.Routes.Has(r)
		}
		if served {
			out = append(out, c)
		}
	}
	return out
}

func karmaSource(r scenarios.Reply) string {
	meta, _ := r.Body["metadata"].(map[string]any)
	s, _ := meta["karma_source"].(string)
	return s
}

// pagedEqualsFile judges D49 after what (the detail's words): GET /events
// in pages of 7 by after_seq must be the journal file byte for byte. The
// file is read before and after the pages, again while it moved in between
// (a backend's own timer may append, e.g. an EoC regulation), up to three
// times, so both are judged at one length.
func pagedEqualsFile(ctx context.Context, env *harness.Env, what, variant string) harness.Measure {
	var file, viaAPI []byte
	var overfull int
	var note string
	var err error
	for range 3 {
		file, err = os.ReadFile(env.T.JournalPath())
		viaAPI, overfull, note = env.EventsByPages(ctx, 7)
		again, err2 := os.ReadFile(env.T.JournalPath())
		if err != nil || err2 != nil || bytes.Equal(file, again) {
			break
		}
	}
	return harness.Measure{OK: err == nil && bytes.Equal(file, viaAPI) && overfull == 0, Samples: bytes.Count(file, []byte("\n")),
		Measured:  fmt.Sprintf("%d bytes via the API, %d pages over the limit", len(viaAPI), overfull),
		Threshold: fmt.Sprintf("the %d bytes of the file", len(file)),
		Detail:    fmt.Sprintf("pages of 7 lines by after_seq after %s (%v)%s%s", what, err, note, firstDifference(file, viaAPI)), Variant: variant}
}

// journalTotal reads journal.total_events of GET /api/credits/metrics (the
// original's JSON shape); false when the route or the number is missing.
func journalTotal(ctx context.Context, env *harness.Env) (int64, bool) {
	return totalEvents(env.C.Get(ctx, "/api/credits/metrics"), "journal")
}

// totalEvents reads section.total_events of an answer of GET
// /api/credits/metrics (SPEC §6: journal and replay each carry one).
func totalEvents(r scenarios.Reply, section string) (int64, bool) {
	m, _ := r.Body[section].(map[string]any)
	v, ok := m["total_events"]
	n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64) // a JSON integer, however the body decoded it
	return n, r.OK() && ok && err == nil
}

// eventsCounted judges D69 after a recovery, nothing written since: GET
// /api/credits/metrics' journal.total_events is what our engine documents
// (its OpenAPI document: the events replayed at start plus those appended
// since), the replay's own count (replay.total_events), never a line
// quarantined or a tail cut (a count taken from the last seq still counts
// them). SPEC §6 names the field without saying what a recovery does to
// it, and the original's routes and the independent backend both count
// the last seq: another backend is not judged.
func eventsCounted(ctx context.Context, env *harness.Env, held int, variant string) harness.Measure {
	r := env.C.Get(ctx, "/api/credits/metrics")
	total, ok := totalEvents(r, "journal")
	replayed, hasReplayed := totalEvents(r, "replay")
	m := harness.Measure{OK: ok && hasReplayed && total == replayed, Samples: 1, Measured: total, Variant: variant,
		Threshold: fmt.Sprintf("%d (replay.total_events: the events the recovery folded)", replayed),
		Detail:    fmt.Sprintf("journal.total_events of GET /api/credits/metrics right after the recovery; the recovered journal holds %d lines", held)}
	switch {
	case !env.TCfg.Kind.OwnEngine():
		m = harness.Measure{Variant: variant, Detail: fmt.Sprintf("SPEC §6 names journal.total_events without saying what a recovery does to it (another backend may count the last seq): not judged; it says %d, its replay %d, its journal holds %d", total, replayed, held)}
	case !ok || !hasReplayed:
		m.Samples, m.Measured, m.Detail = 0, nil, "the answer of GET /api/credits/metrics carried no journal.total_events or replay.total_events number"
	}
	return m
}

// replayTimed judges D68 on the start the harness timed (from, to): GET
// /api/credits/metrics' replay.replay_duration_seconds (SPEC §6) is at
// most that long, and replay.last_replay_timestamp, Unix time in seconds,
// falls within it (a second of slack each side for clocks and rounding).
func replayTimed(ctx context.Context, env *harness.Env, from, to time.Time) harness.Measure {
	took := to.Sub(from)
	m := harness.Measure{Threshold: fmt.Sprintf("duration ≤ %s, timestamp within the start", (took + time.Second).Round(10*time.Millisecond))}
	r := env.C.Get(ctx, "/api/credits/metrics")
	rp, _ := r.Body["replay"].(map[string]any)
	num := func(name string) (float64, bool) {
		n, ok := rp[name].(json.Number)
		if !ok {
			return 0, false
		}
		f, err := n.Float64()
		return f, err == nil
	}
	dur, hasDur := num("replay_duration_seconds")
	at, hasAt := num("last_replay_timestamp")
	if !r.OK() || !hasDur && !hasAt {
		m.Detail = fmt.Sprintf("GET /api/credits/metrics answered %d without replay.replay_duration_seconds or replay.last_replay_timestamp numbers", r.Status)
		return m
	}
	var bad []string
	if hasDur {
		m.Samples++
		if dur < 0 || dur > (took+time.Second).Seconds() {
			bad = append(bad, fmt.Sprintf("replay_duration_seconds %g: the whole start took %.3f s", dur, took.Seconds()))
		}
	}
	if hasAt {
		m.Samples++
		lo, hi := float64(from.Add(-time.Second).UnixMilli())/1000, float64(to.Add(time.Second).UnixMilli())/1000
		if at < lo || at > hi {
			bad = append(bad, fmt.Sprintf("last_replay_timestamp %f is not within the start (%.3f … %.3f)", at, lo, hi))
		}
	}
	m.OK, m.Measured = len(bad) == 0, len(bad)
	m.Detail = fmt.Sprintf("the start after the kill -9 took %.3f s; replay %v; %s", took.Seconds(), rp, strings.Join(bad, "; "))
	return m
}

// integrityCounted judges replay.integrity_errors_count of GET
// /api/credits/metrics after a recovery (D62): our engine counts every line
// its report (raw, GET /journal/verify) lists, quarantined or a torn tail;
// another backend, whose count SPEC §3 leaves open ("counters in
// metrics"), counts at least one after damage in the middle.
func integrityCounted(ctx context.Context, env *harness.Env, raw []byte, d corrupt.Damage, ours bool, variant string) harness.Measure {
	r := env.C.Get(ctx, "/api/credits/metrics")
	rp, _ := r.Body["replay"].(map[string]any)
	n, err := strconv.ParseInt(fmt.Sprint(rp["integrity_errors_count"]), 10, 64)
	if !r.OK() || err != nil {
		return harness.Measure{Variant: variant, Detail: fmt.Sprintf("GET /api/credits/metrics answered %d without a replay.integrity_errors_count number", r.Status)}
	}
	if !ours {
		if d.Expect != corrupt.ExpectQuarantine {
			return harness.Measure{Variant: variant, Detail: "SPEC §3 does not say whether a cut torn tail or a gap counts"}
		}
		return harness.Measure{OK: n >= 1, Samples: 1, Measured: n, Threshold: ">= 1", Variant: variant,
			Detail: fmt.Sprintf("a line quarantined at line %d", d.Line)}
	}
	var rep struct {
		TornTail    *json.RawMessage  `json:"torn_tail"` // nil when absent or null
		Quarantined []json.RawMessage `json:"quarantined"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return harness.Measure{Variant: variant, Detail: "GET /journal/verify is unreadable: " + err.Error()}
	}
	want, torn := int64(len(rep.Quarantined)), "no"
	if rep.TornTail != nil {
		want, torn = want+1, "a"
	}
	return harness.Measure{OK: n == want, Samples: 1, Measured: n, Threshold: want, Variant: variant,
		Detail: fmt.Sprintf("GET /journal/verify lists %d quarantined lines and %s torn tail", len(rep.Quarantined), torn)}
}

func readJournal(ctx context.Context, env *harness.Env) *audit.Journal {
	j, err := env.Journal(ctx)
	harness.Ensure(err == nil, "the journal must be readable: %v", err)
	return j
}

func keysBySeq(j *audit.Journal) map[uint64]string {
	out := map[uint64]string{}
	for _, e := range j.Events() {
		out[e.Seq] = e.IdempotencyKey
	}
	return out
}

// reportedLost checks the recovery report names the entity whose first
// line was damaged, the line it was lost in, and at least one dependent.
func reportedLost(raw []byte, d corrupt.Damage) (bool, string) {
	var rep struct {
		Lost []struct {
			Kind       string `json:"entity_kind"`
			ID         string `json:"entity_id"`
			LostIn     string `json:"lost_in"`
			Dependents int    `json:"dependents"`
		} `json:"lost_entities"`
		Dependents []struct {
			Kind   string `json:"entity_kind"`
			ID     string `json:"entity_id"`
			Reason string `json:"reason"`
		} `json:"dependents"`
		Omitted int `json:"dependents_omitted"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return false, "unreadable report: " + err.Error()
	}
	line := fmt.Sprintf("line %d", d.Line)
	for _, l := range rep.Lost {
		if l.Kind != d.EntityKind || l.ID != d.EntityID {
			continue
		}
		deps := 0
		for _, dep := range rep.Dependents {
			if dep.Kind == d.EntityKind && dep.ID == d.EntityID && strings.Contains(dep.Reason, line) {
				deps++
			}
		}
		if strings.Contains(l.LostIn, line) && deps > 0 && (deps == l.Dependents || rep.Omitted > 0) {
			return true, fmt.Sprintf("%s %s lost in %s, %d dependents listed", l.Kind, l.ID, l.LostIn, deps)
		}
		return false, fmt.Sprintf("%s %s reported lost in %q with %d of %d dependents naming %s", l.Kind, l.ID, l.LostIn, deps, l.Dependents, line)
	}
	return false, fmt.Sprintf("%s %s not among %d lost entities", d.EntityKind, d.EntityID, len(rep.Lost))
}

// reportedDamage checks the recovery report names the damage.
// reportedAnywhere reads another backend's recovery report, whose shape
// SPEC §3 leaves open: a torn tail is reported when a member whose name
// holds "torn" is set (a non-empty object, list or string, or a count
// above 0); a quarantined line when a member whose name holds "quarantin"
// lists it (an object with line/line_no/line_number, or the number); a
// gap when a member whose name holds "gap" or "quarantin" is set (SPEC §3
// quarantines a gap in seq like a bad line).
func reportedAnywhere(raw []byte, d corrupt.Damage) (bool, string) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return false, "unreadable report: " + err.Error()
	}
	lists := func(v any, line int) bool {
		l, _ := v.([]any)
		for _, e := range l {
			switch x := e.(type) {
			case float64:
				if int(x) == line {
					return true
				}
			case map[string]any:
				for _, k := range []string{"line", "line_no", "line_number"} {
					if n, ok := x[k].(float64); ok && int(n) == line {
						return true
					}
				}
			}
		}
		return false
	}
	found := ""
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				key := strings.ToLower(k)
				switch {
				case found != "":
				case d.Expect == corrupt.ExpectTorn && strings.Contains(key, "torn") && setValue(x):
					found = "torn tail reported at " + path + k
				case d.Expect == corrupt.ExpectQuarantine && strings.Contains(key, "quarantin") && lists(x, d.Line):
					found = fmt.Sprintf("line %d quarantined, at %s%s", d.Line, path, k)
				case d.Expect != corrupt.ExpectTorn && d.Expect != corrupt.ExpectQuarantine && (strings.Contains(key, "gap") || strings.Contains(key, "quarantin")) && setValue(x):
					// SPEC §3: a gap in seq is a media fault, quarantined
					// and reported like a bad line.
					found = "gap reported at " + path + k
				}
				walk(path+k+".", x)
			}
		}
	}
	walk("", doc)
	if found == "" {
		return false, fmt.Sprintf("no %s at line %d in the report (read in any shape)", d.Expect, d.Line)
	}
	return true, found
}

func reportedDamage(raw []byte, d corrupt.Damage) (bool, string) {
	var rep struct {
		TornTail *struct {
			Sidecar string `json:"sidecar"`
		} `json:"torn_tail"`
		Quarantined []struct {
			Line int `json:"line"`
		} `json:"quarantined"`
		Gaps []struct {
			AfterSeq uint64 `json:"after_seq"`
			NextSeq  uint64 `json:"next_seq"`
		} `json:"gaps"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return false, "unreadable report: " + err.Error()
	}
	switch d.Expect {
	case corrupt.ExpectTorn:
		if rep.TornTail != nil && rep.TornTail.Sidecar != "" {
			if _, err := os.Stat(rep.TornTail.Sidecar); err == nil || !strings.HasPrefix(rep.TornTail.Sidecar, "/") {
				return true, "torn tail kept in " + rep.TornTail.Sidecar
			}
			return true, "torn tail reported (sidecar " + rep.TornTail.Sidecar + ")"
		}
		return false, "no torn tail reported"
	case corrupt.ExpectQuarantine:
		for _, q := range rep.Quarantined {
			if q.Line == d.Line {
				return true, fmt.Sprintf("line %d quarantined", q.Line)
			}
		}
		return false, fmt.Sprintf("quarantined lines %v", rep.Quarantined)
	default:
		for _, g := range rep.Gaps {
			if len(d.DestroyedSeqs) > 0 && g.AfterSeq < d.DestroyedSeqs[0] && g.NextSeq > d.DestroyedSeqs[len(d.DestroyedSeqs)-1] {
				return true, fmt.Sprintf("gap %d→%d reported", g.AfterSeq, g.NextSeq)
			}
		}
		return false, fmt.Sprintf("gaps %v", rep.Gaps)
	}
}

// firstDifference names the first line where the file and the API differ
// ("" when they do not).
func firstDifference(file, api []byte) string {
	fl, al := bytes.SplitAfter(file, []byte("\n")), bytes.SplitAfter(api, []byte("\n"))
	for i := range max(len(fl), len(al)) {
		var f, a []byte
		if i < len(fl) {
			f = fl[i]
		}
		if i < len(al) {
			a = al[i]
		}
		if !bytes.Equal(f, a) {
			return fmt.Sprintf("; line %d differs: file %.200q, API %.200q", i+1, f, a)
		}
	}
	return ""
}
