package d_test

// Gate D, cluster target only: a network fault between one creditd instance
// and PostgreSQL (chaos/tcpproxy on that instance's database link: delay,
// partition, cuts). The instance must answer 503 quickly, never 500 and
// never hang; the other instance must keep serving (the partitioned one
// cannot hold the append lock); the faulty one recovers without a restart;
// nothing acknowledged is lost or doubled. Not registered on other targets
// (not applicable to one instance; a SKIP would make gate D CONDITIONAL).

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/chaos/tcpproxy"
	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
	"github.com/creditgate/creditgate/scenarios/money"
)

var _ = clusterLinkSpecs()

func clusterLinkSpecs() bool {
	if target.ConfigFromEnv().Kind != target.KindCluster {
		return false
	}
	return Describe("Gate D (cluster): a faulty link between one instance and PostgreSQL", Ordered, ContinueOnFailure, Label("cluster"), harness.Checks("CL-D1", "CL-D2a", "CL-D2b", "CL-D2c", "CL-D2d", "CL-D3", "CL-D5", "CL-D6", "CL-D4a", "CL-D4b"), clusterLinkBody)
}

func clusterLinkBody() {
	var env *harness.Env
	var link *tcpproxy.Proxy
	var faulty, healthy *scenarios.Client
	var pids []int
	var cl target.Cluster

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "D", nil, harness.WithOutDir("cluster-link"), harness.WithStoreLink(),
			harness.WithTarget(func(cfg *target.Config) { cfg.ClusterSize = 2 }))
		link = env.StoreLink
		t := env.T
		cl = t.(target.Cluster)
		faulty = scenarios.NewClient(cl.Instances()[0], t.Token())
		healthy = scenarios.NewClient(cl.Instances()[1], t.Token())
		// One history, one clock: both instances' operations and the link's
		// fault windows.
		healthy.History = env.C.History
		faulty.History = env.C.History
		env.C = healthy
		pids = []int{cl.InstancePID(0), cl.InstancePID(1)}
	}, NodeTimeout(2*time.Minute))

	type sent struct {
		key     string
		reply   scenarios.Reply
		at      time.Time
		healthy bool
	}
	var all []sent
	var mu sync.Mutex
	var seq atomic.Int64

	// load runs 2 workers per instance for d and records every reply.
	load := func(ctx context.Context, agent string, d time.Duration) []sent {
		var out []sent
		var omu sync.Mutex
		var wg sync.WaitGroup
		stop := time.Now().Add(d)
		for w := range 4 {
			c, isHealthy := faulty, false
			if w%2 == 1 {
				c, isHealthy = healthy, true
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					key := fmt.Sprintf("cl-link-%05d", seq.Add(1))
					cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					r := c.Do(cctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: key,
						Body: map[string]any{"agent_id": agent, "amount": 0.001, "reason": "link"}})
					cancel()
					s := sent{key: key, reply: r, at: time.Now(), healthy: isHealthy}
					omu.Lock()
					out = append(out, s)
					omu.Unlock()
					if !r.OK() {
						time.Sleep(20 * time.Millisecond)
					}
				}
			}()
		}
		wg.Wait()
		mu.Lock()
		all = append(all, out...)
		mu.Unlock()
		return out
	}

	// servesAgain reads the faulty instance's balance of agent until it
	// answers 2xx (same process, within 30 s) and returns the last answer.
	servesAgain := func(ctx context.Context, agent string) scenarios.Reply {
		deadline := time.Now().Add(30 * time.Second)
		for {
			r := faulty.Get(ctx, "/api/credits/balance/"+agent)
			if r.OK() || time.Now().After(deadline) {
				return r
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	count := func(rs []sent, f func(sent) bool) int {
		n := 0
		for _, r := range rs {
			if f(r) {
				n++
			}
		}
		return n
	}

	It("CL-D1 a slow link (50 ms per chunk) slows the instance but every answer is a success", func(ctx SpecContext) {
		env.Require("CL-D1")
		err := healthy.CreateAgent(ctx, "cl-link", 1000)
		harness.Ensure(err == nil, "the link agent must be created with 1000 credits on the healthy instance: %v", err)
		slow := &fault.LinkDelay{P: link, Delay: 50 * time.Millisecond}
		_, err = env.Inject(ctx, slow)
		harness.Injected(err, "the link must slow down")
		rs := load(ctx, "cl-link", 3*time.Second)
		_, err = env.Heal(ctx, slow)
		harness.Ensure(err == nil, "the link delay must be lifted: %v", err)
		bad := count(rs, func(s sent) bool { return !s.reply.OK() })
		slowed := count(rs, func(s sent) bool { return !s.healthy && s.reply.OK() })
		env.Record("CL-D1", harness.Measure{OK: bad == 0 && slowed > 0, Samples: len(rs), Measured: bad, Threshold: "0, and the slowed instance acknowledges",
			Detail: fmt.Sprintf("%d sent, %d acknowledged by the slowed instance", len(rs), slowed)})
	})

	It("CL-D2 a partition of one instance: it answers 503 within the store timeout, never 500; the other keeps writing; it recovers without a restart", Label("critical"), func(ctx SpecContext) {
		env.Require("CL-D2a", "CL-D2b", "CL-D2c", "CL-D2d")
		partition := &fault.Partition{P: link}
		w, err := env.Inject(ctx, partition)
		harness.Ensure(err == nil, "the link must be partitioned: %v", err)
		start := w.Start
		rs := load(ctx, "cl-link", 8*time.Second)
		_, err = env.Heal(ctx, partition) // heals and drops the connections the partition left half-open
		harness.Ensure(err == nil, "the partition must heal: %v", err)
		fivehundred := count(rs, func(s sent) bool { return s.reply.Status == 500 })
		var maxFaulty time.Duration
		for _, s := range rs {
			if !s.healthy && s.reply.Latency > maxFaulty {
				maxFaulty = s.reply.Latency
			}
		}
		// The partitioned instance may hold the append lock when the link
		// drops; the server ends that session after its idle-in-transaction
		// timeout (2 s), so the healthy instance writes again well before
		// the partition ends.
		late := count(rs, func(s sent) bool { return s.healthy && s.reply.OK() && s.at.Sub(start) > 4*time.Second })
		faultyOK := count(rs, func(s sent) bool { return !s.healthy && s.reply.OK() })
		faulty503 := count(rs, func(s sent) bool { return !s.healthy && s.reply.Status == 503 })
		faultyN := count(rs, func(s sent) bool { return !s.healthy })
		lateSent := count(rs, func(s sent) bool { return s.healthy && s.at.Sub(start) > 4*time.Second })
		env.Record("CL-D2a", harness.Measure{OK: fivehundred == 0, Samples: len(rs), Measured: fivehundred, Threshold: 0,
			Detail: fmt.Sprintf("partitioned instance: %d × 503, %d ok (before the link dropped)", faulty503, faultyOK)})
		env.Record("CL-D2b", harness.Measure{OK: maxFaulty < 8*time.Second, Samples: faultyN, Measured: maxFaulty.Round(time.Millisecond).String(), Threshold: "< 8s",
			Detail: "store operations time out after 5 s; later requests get 503 at once while the store is down"})
		env.Record("CL-D2c", harness.Measure{OK: late > 0, Samples: lateSent, Measured: late, Threshold: "> 0",
			Detail: fmt.Sprintf("%d writes sent to the healthy instance in the last 4 s; a partitioned instance must not hold the cluster's append lock", lateSent)})
		recovered := servesAgain(ctx, "cl-link").OK()
		env.Record("CL-D2d", harness.Measure{OK: recovered && cl.InstancePID(0) == pids[0], Samples: 1,
			Measured: fmt.Sprintf("recovered=%v pid %d→%d", recovered, pids[0], cl.InstancePID(0)), Threshold: "recovered=true, same pid"})
	})

	It("CL-D3 connections cut under load: no 500, and the instance keeps acknowledging", Label("critical"), func(ctx SpecContext) {
		env.Require("CL-D3")
		done := make(chan []sent)
		go func() { done <- load(ctx, "cl-link", 3*time.Second) }()
		cuts := 0
		for range 5 {
			time.Sleep(400 * time.Millisecond)
			cut := &fault.LinkCut{P: link}
			_, err := env.Inject(ctx, cut)
			harness.Injected(err, "the link's connections must be cut")
			cuts += cut.Cuts
		}
		rs := <-done
		fivehundred := count(rs, func(s sent) bool { return s.reply.Status == 500 })
		okFaulty := count(rs, func(s sent) bool { return !s.healthy && s.reply.OK() })
		env.Record("CL-D3", harness.Measure{OK: fivehundred == 0, Samples: len(rs), Measured: fivehundred, Threshold: 0,
			Detail: fmt.Sprintf("%d connections cut; the cut instance acknowledged %d consumes", cuts, okFaulty)})
	})

	// A cut aimed at one commit: the link drops the chunk carrying the
	// consume's marker (its reason) and cuts that connection, so the
	// instance's transaction never commits. The instance decided and folded
	// the consume before its commit failed; once it serves again it must
	// serve the stream's state, not the failed commit's.
	It("CL-D5 a commit cut on its way to PostgreSQL: not acknowledged, and once the instance serves again its balances are the stream's", Label("critical"), func(ctx SpecContext) {
		env.Require("CL-D5")
		agent := "cl-cut"
		err := healthy.CreateAgent(ctx, agent, 100)
		harness.Ensure(err == nil, "the agent %s must be created with 100 credits on the healthy instance: %v", agent, err)
		marker := fmt.Sprintf("commit-cut-%d", env.P.Seed)
		cut := &fault.CommitCut{P: link, Marker: marker}
		_, err = env.Inject(ctx, cut)
		harness.Injected(err, "arming the commit cut")
		key := fmt.Sprintf("cl-link-cut-%d", env.P.Seed)
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		r := faulty.Do(cctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: key,
			Body: map[string]any{"agent_id": agent, "amount": 60, "reason": marker}})
		cancel()
		mu.Lock()
		all = append(all, sent{key: key, reply: r, at: time.Now()})
		mu.Unlock()
		fired := false
		select {
		case <-cut.Fired():
			fired = true
		default:
		}
		_, _ = env.Heal(ctx, cut)
		if !fired {
			env.Record("CL-D5", harness.Measure{Detail: fmt.Sprintf("the consume (answered %d) never sent a chunk carrying %q to PostgreSQL: not measured", r.Status, marker)})
			return
		}
		// The instance serves again (same process) before it is judged.
		got := servesAgain(ctx, agent)
		j, err := audit.FetchJournal(ctx, cl.Instances()[1], env.T.Token(), nil)
		harness.Ensure(err == nil, "the event stream must be readable from the healthy instance: %v", err)
		held := audit.BalancesHeld(j, agent)
		detail := fmt.Sprintf("the consume of 60 whose commit was cut answered %d %s; balances %s held in the stream: %v", r.Status, r.Code(), agent, held)
		m := harness.Measure{Samples: 1, Threshold: "the stream's balance"}
		switch b, berr := money.FromJSON(got.Body["balance"]); {
		case !got.OK():
			m.Measured, m.Detail = fmt.Sprintf("no balance: %d", got.Status), "the cut instance did not serve again within 30 s; "+detail
		case berr != nil || len(held) == 0:
			m.Measured, m.Detail = "unreadable", fmt.Sprintf("%v; %s", berr, detail)
		default:
			want := held[len(held)-1]
			m.OK = b == want && !r.OK()
			m.Measured = money.FormatMilli(b)
			m.Threshold = money.FormatMilli(want) + ", and the consume not acknowledged"
			m.Detail = detail
		}
		env.Record("CL-D5", m)
	})

	// An instance frozen inside its append transaction (SIGSTOP, or a link
	// gone silent without a reset): the database sees a session idle in a
	// transaction that holds the append lock. It may stall the other
	// instances for a bounded time only, as a partitioned one may (CL-D2c):
	// they acknowledge writes again within 4 s of the freeze.
	It("CL-D6 an instance frozen inside its append transaction holds the append lock for a bounded time: the other acknowledges writes again within 4 s", Label("critical"), func(ctx SpecContext) {
		env.Require("CL-D6")
		agent := "cl-freeze"
		err := healthy.CreateAgent(ctx, agent, 1000)
		harness.Ensure(err == nil, "the agent %s must be created with 1000 credits on the healthy instance: %v", agent, err)
		marker := fmt.Sprintf("commit-frozen-%d", env.P.Seed)
		freeze := &fault.CommitCut{P: link, Marker: marker, Freeze: true}
		_, err = env.Inject(ctx, freeze)
		harness.Injected(err, "arming the freeze")
		healed := false
		DeferCleanup(func(ctx SpecContext) {
			if !healed {
				_, _ = env.Heal(ctx, freeze)
			}
		})
		frozenDone := make(chan scenarios.Reply, 1)
		go func() {
			defer GinkgoRecover()
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			frozenDone <- faulty.Do(cctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume,
				Key:  fmt.Sprintf("cl-link-frozen-%d", env.P.Seed),
				Body: map[string]any{"agent_id": agent, "amount": 1, "reason": marker}})
		}()
		select {
		case <-freeze.Fired():
		case <-time.After(10 * time.Second):
			env.Record("CL-D6", harness.Measure{Detail: fmt.Sprintf("the faulty instance never sent a chunk carrying %q to PostgreSQL within 10 s: not measured", marker)})
			return
		}
		frozenAt := time.Now()
		// The healthy instance writes for 8 s after the freeze, one consume
		// at a time, each bounded by 10 s.
		var acks []time.Duration
		sentN := 0
		for time.Since(frozenAt) < 8*time.Second {
			key := fmt.Sprintf("cl-link-%05d", seq.Add(1))
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			r := healthy.Do(cctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Key: key,
				Body: map[string]any{"agent_id": agent, "amount": 0.001, "reason": "beside a frozen instance"}})
			cancel()
			sentN++
			mu.Lock()
			all = append(all, sent{key: key, reply: r, at: time.Now(), healthy: true})
			mu.Unlock()
			if r.OK() {
				acks = append(acks, time.Since(frozenAt))
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
		_, err = env.Heal(ctx, freeze)
		healed = true
		harness.Ensure(err == nil, "ending the freeze: %v", err)
		fr := <-frozenDone
		late := 0
		first := "none"
		for _, a := range acks {
			if a >= 4*time.Second {
				late++
			}
		}
		if len(acks) > 0 {
			first = acks[0].Round(time.Millisecond).String()
		}
		env.Record("CL-D6", harness.Measure{OK: late > 0, Samples: sentN, Measured: fmt.Sprintf("%d acknowledged 4–8 s after the freeze", late),
			Threshold: "> 0 (the lock is released within 4 s)",
			Detail: fmt.Sprintf("the healthy instance sent %d consumes in the 8 s after instance 0 froze inside its transaction; %d acknowledged, the first %s after the freeze; the frozen consume answered %d %s",
				sentN, len(acks), first, fr.Status, fr.Code())})
	})

	It("CL-D4 after the link faults every acknowledged consume is in the stream exactly once and the fold equals the API", Label("critical"), func(ctx SpecContext) {
		env.Require("CL-D4a", "CL-D4b")
		j, err := audit.FetchJournal(ctx, cl.Instances()[1], env.T.Token(), nil)
		harness.Ensure(err == nil, "the event stream must be readable from the healthy instance: %v", err)
		perKey := map[string]int{}
		for _, ev := range j.Events() {
			perKey[ev.IdempotencyKey]++
		}
		missing, dup, acked := 0, 0, 0
		for _, s := range all {
			switch {
			case s.reply.OK():
				acked++
				if perKey[s.key] != 1 {
					missing++
				}
			case perKey[s.key] > 1:
				dup++
			}
		}
		env.Record("CL-D4a", harness.Measure{OK: missing+dup == 0, Samples: len(all), Measured: missing + dup, Threshold: 0,
			Detail: fmt.Sprintf("%d sent, %d acknowledged, %d missing or doubled, %d unacknowledged doubled", len(all), acked, missing, dup)})
		// The instance whose link failed reconnects to its store on its own
		// time after the last fault: it answers 503 until then.
		var api audit.APIState
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			api, err = audit.FetchAPIState(ctx, cl.Instances()[0], env.T.Token(), nil)
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		harness.Ensure(err == nil, "the API state of the instance whose link failed must be readable within 30 s: %v", err)
		api.AllFields = true // the cluster runs our engine
		fs := audit.GateB(j, audit.Fold(j), api, audit.GateBOptions{})
		bad := []string{}
		judged := 0
		for _, f := range fs {
			judged += f.Samples
			if !f.OK {
				bad = append(bad, f.Check)
			}
		}
		env.Record("CL-D4b", harness.Measure{OK: len(bad) == 0, Samples: judged, Measured: len(bad), Threshold: 0,
			Detail: fmt.Sprintf("gate B findings failing over %d things judged (agents, entries, requests): %v", judged, bad)})
		env.SaveScenario(reports.Scenario{Name: "cluster: database link faults", Status: harness.ScenarioStatus(missing+dup == 0 && len(bad) == 0),
			InvariantsPassed: missing+dup == 0, Metrics: map[string]any{"sent": len(all), "acknowledged": acked}})
	})
}
