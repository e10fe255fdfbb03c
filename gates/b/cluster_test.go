package b_test

// Gate B, cluster target only: the rules the single writer's lock used to
// guarantee must hold when the requests of one race land on different
// creditd instances sharing one PostgreSQL database. Every client here
// talks to one instance directly (not through the target's round-robin
// proxy), so the spread is explicit.
//
// On other targets the specs are not registered at all rather than
// skipped: a skipped spec makes gate B CONDITIONAL, and these checks are not
// applicable to a single instance, not unverified.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/creditgate/creditgate/gates/audit"
	"github.com/creditgate/creditgate/gates/harness"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/reports"
	"github.com/creditgate/creditgate/scenarios"
	"github.com/creditgate/creditgate/scenarios/history"
)

var _ = clusterSpecs()

func clusterSpecs() bool {
	if target.ConfigFromEnv().Kind != target.KindCluster {
		return false
	}
	return Describe("Gate B (cluster): rules hold across instances on one database", Ordered, ContinueOnFailure, Label("cluster"), clusterBody)
}

func clusterBody() {
	var env *harness.Env
	var cl target.Cluster
	var inst []*scenarios.Client

	BeforeAll(func(ctx SpecContext) {
		env = harness.Boot(ctx, "B", nil)
		cl = env.T.(target.Cluster)
		for _, u := range cl.Instances() {
			c := scenarios.NewClient(u, env.T.Token())
			c.NS = env.NS
			inst = append(inst, c)
		}
		Expect(len(inst)).To(BeNumerically(">=", 2), "a cluster needs at least two instances")
	}, NodeTimeout(2*time.Minute))

	// on returns the client of instance i (mod N).
	on := func(i int) *scenarios.Client { return inst[i%len(inst)] }

	journal := func(ctx context.Context) []*audit.Event {
		j, err := env.FullJournal(ctx)
		Expect(err).NotTo(HaveOccurred(), "GET /events")
		return j.Events()
	}

	balanceOn := func(ctx context.Context, c *scenarios.Client, agent string) string {
		r := c.Get(ctx, "/api/credits/balance/"+agent)
		if !r.OK() {
			return fmt.Sprintf("%d", r.Status)
		}
		return fmt.Sprint(r.Body["balance"])
	}

	consume := func(ctx context.Context, c *scenarios.Client, agent, key string, amount float64) scenarios.Reply {
		return c.Do(ctx, scenarios.Call{Method: "POST", Path: "/api/credits/consume", Kind: history.KindConsume, Route: "POST /consume",
			Key: key, Body: map[string]any{"agent_id": agent, "amount": amount, "reason": "cluster"}})
	}

	It("CL1 hot-spot consumes spread over every instance never overdraw", Label("critical"), func(ctx SpecContext) {
		agent := env.ID("cl-hot")
		Expect(on(0).CreateAgent(ctx, agent, 100)).To(Succeed())
		workers := max(env.P.Concurrency, 30)
		replies := make([]scenarios.Reply, workers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				replies[w] = consume(ctx, on(w), agent, fmt.Sprintf("cl-hot-%03d", w), 10)
			}()
		}
		close(start)
		wg.Wait()
		ok, other := 0, []string{}
		for _, r := range replies {
			switch {
			case r.OK():
				ok++
			case r.Code() == "insufficient_credits":
			default:
				other = append(other, fmt.Sprintf("%d %s", r.Status, r.Raw))
			}
		}
		env.Check(fmt.Sprintf("CL1 consumes accepted from one agent raced over %d instances", len(inst)), ok == 10 && len(other) == 0, ok, 10,
			fmt.Sprintf("%d workers × 10 credits on 100 credits, worker w on instance w mod %d; unexpected answers: %v", workers, len(inst), other), true)
		var seen []string
		for _, c := range inst {
			seen = append(seen, balanceOn(ctx, c, agent))
		}
		want := strings.TrimSpace(strings.Repeat("0 ", len(inst)))
		env.Check("CL1 balance read on every instance after the race", strings.Join(seen, " ") == want, strings.Join(seen, " "), want,
			"each instance catches up before a read, so all agree at once", true)
	})

	It("CL2 ten approvers on different instances: exactly one decision", Label("critical"), func(ctx SpecContext) {
		agent := env.ID("cl-appr")
		Expect(on(0).CreateAgent(ctx, agent, 100)).To(Succeed())
		const racers, requests = 10, 5
		winners, others := 0, []string{}
		var ids []string
		for q := range requests {
			id, r := on(q).RequestApproval(ctx, agent, "requester", 600, "", fmt.Sprintf("cl-appr-req-%d", q))
			Expect(r.OK()).To(BeTrue(), "approval request: %d %s", r.Status, r.Raw)
			ids = append(ids, id)
			replies := make([]scenarios.Reply, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					replies[i] = on(i).Decide(ctx, id, fmt.Sprintf("approver-%02d", i), i%3 != 0, "race", fmt.Sprintf("cl-appr-%d-%02d", q, i))
				}()
			}
			close(start)
			wg.Wait()
			w := 0
			for _, r := range replies {
				switch {
				case r.OK():
					w++
				case r.Status == 409 && r.Code() == "already_decided":
				default:
					others = append(others, fmt.Sprintf("%d %s", r.Status, r.Raw))
				}
			}
			if w == 1 {
				winners++
			}
		}
		env.Check(fmt.Sprintf("CL2 requests with exactly one 2xx among %d approvers on %d instances", racers, len(inst)), winners == requests && len(others) == 0,
			winners, requests, fmt.Sprintf("losers must get 409 already_decided; other answers: %v", others), true)
		terminal := map[string]int{}
		for _, ev := range journal(ctx) {
			if ev.EventType == "approval.approved" || ev.EventType == "approval.rejected" || ev.EventType == "approval.expired" {
				var p struct {
					RequestID string `json:"request_id"`
				}
				_ = json.Unmarshal(ev.Payload, &p)
				terminal[p.RequestID]++
			}
		}
		bad := []string{}
		for _, id := range ids {
			if terminal[id] != 1 {
				bad = append(bad, fmt.Sprintf("%s: %d", id, terminal[id]))
			}
		}
		env.Check("CL2 terminal decision events per raced request in the stream", len(bad) == 0, len(bad), 0,
			fmt.Sprintf("requests without exactly one terminal event: %v", bad), true)
	})

	It("CL3 a retry landing on another instance returns the first event and writes nothing", Label("critical"), func(ctx SpecContext) {
		agent := env.ID("cl-retry")
		Expect(on(0).CreateAgent(ctx, agent, 100)).To(Succeed())
		const n = 20
		mismatch, notReplayed := 0, 0
		for k := range n {
			key := fmt.Sprintf("cl-retry-%02d", k)
			first := consume(ctx, on(k), agent, key, 1)
			Expect(first.OK()).To(BeTrue(), "first consume: %d %s", first.Status, first.Raw)
			for d := 1; d < len(inst); d++ {
				again := consume(ctx, on(k+d), agent, key, 1)
				if !again.OK() || again.Str("event_id") != first.Str("event_id") {
					mismatch++
				}
				if !again.Replayed {
					notReplayed++
				}
			}
		}
		env.Check("CL3 retries on another instance answering another event", mismatch == 0, mismatch, 0,
			fmt.Sprintf("%d keys, each sent to every instance", n), true)
		env.Check("CL3 retries on another instance not marked Idempotent-Replayed", notReplayed == 0, notReplayed, 0, "", false)
		perKey := map[string]int{}
		for _, ev := range journal(ctx) {
			if strings.HasPrefix(ev.IdempotencyKey, env.NS+"cl-retry-") && !strings.Contains(ev.IdempotencyKey, "#") {
				perKey[ev.IdempotencyKey]++
			}
		}
		dup := 0
		for _, c := range perKey {
			if c != 1 {
				dup++
			}
		}
		env.Check("CL3 keys journaled other than exactly once", len(perKey) == n && dup == 0, fmt.Sprintf("%d keys, %d not once", len(perKey), dup),
			fmt.Sprintf("%d keys, 0 not once", n), "", true)
		b := balanceOn(ctx, on(1), agent)
		env.Check("CL3 balance after the retried consumes", b == fmt.Sprint(100-n), b, 100-n, "each key debited once", true)
	})

	It("CL4 a write acknowledged by one instance is read by every other at once", func(ctx SpecContext) {
		agent := env.ID("cl-read")
		Expect(on(0).CreateAgent(ctx, agent, 1000)).To(Succeed())
		stale := 0
		const n = 30
		for k := range n {
			r := consume(ctx, on(k), agent, fmt.Sprintf("cl-read-%02d", k), 1)
			Expect(r.OK()).To(BeTrue())
			want := fmt.Sprint(1000 - (k + 1))
			if got := balanceOn(ctx, on(k+1), agent); got != want {
				stale++
			}
		}
		env.Check("CL4 stale reads right after an acknowledged write on another instance", stale == 0, stale, 0,
			fmt.Sprintf("%d consume-then-read pairs; a read catches up with the database before answering (docs/cluster.md)", n), false)
	})

	// loadUntil sends consumes with unique keys from workers spread over the
	// instances until stop closes, and returns the replies by key.
	type sent struct {
		key   string
		reply scenarios.Reply
	}
	loadUntil := func(ctx context.Context, agent, prefix string, workers int, stop <-chan struct{}) []sent {
		var mu sync.Mutex
		var out []sent
		var wg sync.WaitGroup
		var seq atomic.Int64
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("%s-%05d", prefix, seq.Add(1))
					cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					r := consume(cctx, on(w), agent, key, 0.001)
					cancel()
					mu.Lock()
					out = append(out, sent{key: env.NS + key, reply: r})
					mu.Unlock()
					if r.Err != nil {
						time.Sleep(20 * time.Millisecond) // instance down: do not spin
					}
				}
			}()
		}
		wg.Wait()
		return out
	}

	// presentOnce checks every acknowledged consume is journaled exactly
	// once and no unacknowledged one more than once.
	presentOnce := func(ctx context.Context, name string, replies []sent) (acked int) {
		count := map[string]int{}
		for _, ev := range journal(ctx) {
			count[ev.IdempotencyKey]++
		}
		missing, dup := 0, 0
		for _, s := range replies {
			switch {
			case s.reply.OK():
				acked++
				if count[s.key] != 1 {
					missing++
				}
			case count[s.key] > 1:
				dup++
			}
		}
		env.Check(name+": acknowledged consumes not journaled exactly once", missing == 0 && dup == 0, missing+dup, 0,
			fmt.Sprintf("%d sent, %d acknowledged; %d acknowledged missing or doubled, %d unacknowledged doubled", len(replies), acked, missing, dup), true)
		return acked
	}

	It("CL5 kill -9 of one instance mid-load: every acknowledged consume present once, the others keep serving", Label("critical"), func(ctx SpecContext) {
		agent := env.ID("cl-kill")
		Expect(on(0).CreateAgent(ctx, agent, 1000)).To(Succeed())
		stop := make(chan struct{})
		var replies []sent
		done := make(chan struct{})
		go func() { replies = loadUntil(ctx, agent, "cl-kill", 3*len(inst), stop); close(done) }()
		time.Sleep(500 * time.Millisecond)
		victim := len(inst) - 1
		Expect(cl.KillInstance(ctx, victim)).To(Succeed())
		time.Sleep(time.Second)
		Expect(cl.StartInstance(ctx, victim)).To(Succeed())
		time.Sleep(500 * time.Millisecond)
		close(stop)
		<-done
		acked := presentOnce(ctx, "CL5 kill -9 of instance "+fmt.Sprint(victim), replies)
		fivexx := 0
		for _, s := range replies {
			if s.reply.Status >= 500 {
				fivexx++
			}
		}
		env.Check("CL5 5xx answers from the surviving instances during the kill", fivexx == 0, fivexx, 0,
			"requests to the killed instance fail to connect (unknown outcome); the others must not fail", false)
		env.SaveScenario(reports.Scenario{Name: "cluster: kill -9 of one instance mid-load", Status: harness.ScenarioStatus(acked > 0),
			InvariantsPassed: true, Metrics: map[string]any{"sent": len(replies), "acknowledged": acked, "instances": len(inst)}})
	})

	It("CL6 PostgreSQL stopped under load: 503 (never 500) while it is gone, recovery without restart, acknowledged work kept", Label("critical"), func(ctx SpecContext) {
		agent := env.ID("cl-pg")
		Expect(on(0).CreateAgent(ctx, agent, 1000)).To(Succeed())
		var pids []int
		for i := range inst {
			pids = append(pids, cl.InstancePID(i))
		}
		stop := make(chan struct{})
		var replies []sent
		done := make(chan struct{})
		go func() { replies = loadUntil(ctx, agent, "cl-pg", 2*len(inst), stop); close(done) }()
		time.Sleep(500 * time.Millisecond)
		Expect(cl.StopDatabase(ctx, "immediate")).To(Succeed())
		down := time.Now()
		time.Sleep(1500 * time.Millisecond)
		// Reads while the database is gone.
		readStatus := map[int]int{}
		for _, c := range inst {
			readStatus[c.Get(ctx, "/api/credits/balance/"+agent).Status]++
		}
		Expect(cl.StartDatabase(ctx)).To(Succeed())
		downFor := time.Since(down)
		// Recovery: every instance answers a read again, same process.
		deadline := time.Now().Add(30 * time.Second)
		recovered := false
		for !recovered && time.Now().Before(deadline) {
			recovered = true
			for _, c := range inst {
				if !c.Get(ctx, "/api/credits/balance/"+agent).OK() {
					recovered = false
				}
			}
			if !recovered {
				time.Sleep(100 * time.Millisecond)
			}
		}
		time.Sleep(500 * time.Millisecond)
		close(stop)
		<-done
		status := map[int]int{}
		for _, s := range replies {
			status[s.reply.Status]++
		}
		env.Check("CL6 500 answers while PostgreSQL was down", status[500] == 0 && readStatus[500] == 0, status[500]+readStatus[500], 0,
			fmt.Sprintf("consume statuses %s, reads while down %s (down %s)", reports.Readable(status), reports.Readable(readStatus), downFor.Round(time.Millisecond)), true)
		env.Check("CL6 reads while PostgreSQL was down answered 503", readStatus[503] == len(inst), readStatus, fmt.Sprintf("503: %d", len(inst)),
			"an instance that cannot reach the database must not serve state it cannot vouch for", false)
		var restarted []int
		for i := range inst {
			if cl.InstancePID(i) != pids[i] {
				restarted = append(restarted, i)
			}
		}
		env.Check("CL6 instances serving again within 30 s of the database restart, without a restart", recovered && len(restarted) == 0,
			fmt.Sprintf("recovered=%v restarted=%v", recovered, restarted), "recovered=true restarted=[]", "", true)
		acked := presentOnce(ctx, "CL6 PostgreSQL stop/restart", replies)
		env.SaveScenario(reports.Scenario{Name: "cluster: PostgreSQL stop/restart under load", Status: harness.ScenarioStatus(recovered && status[500] == 0),
			InvariantsPassed: status[500] == 0, Metrics: map[string]any{"sent": len(replies), "acknowledged": acked, "statuses": reports.Readable(status)}})
	})

	It("CL7 after the faults the reference model's fold of the stream equals the API", func(ctx SpecContext) {
		fs, _ := env.FoldAndCompare(ctx, "cluster, after instance and database faults")
		env.ReportAll(fs, isCritical)
	})
}
