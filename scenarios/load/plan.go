package load

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"

	"github.com/creditgate/creditgate/scenarios/money"
)

// OpKind names an operation of the plan (and of the history).
type OpKind string

const (
	KindConsume       OpKind = "consume"       // POST /consume
	KindRefund        OpKind = "refund"        // POST /refund
	KindRefill        OpKind = "refill"        // POST /add, below the approval threshold
	KindBalance       OpKind = "balance"       // GET /balance/{id}
	KindHistory       OpKind = "history"       // GET /history/{id}?limit=20
	KindBalances      OpKind = "balances"      // GET /balances
	KindApproval      OpKind = "approval"      // POST /approvals, then approve by another principal
	KindCollaboration OpKind = "collaboration" // POST /synergie/collaborations

	// Kinds that appear in the history only.
	KindSetupAgent OpKind = "setup_agent" // POST /agents
	KindSetupAdd   OpKind = "setup_add"   // POST /add after creation
	KindApprove    OpKind = "approve"     // POST /approvals/{id}/approve (follow-up)
)

// Mutation reports whether the kind changes state (and so carries an
// Idempotency-Key and is recorded in the history).
func (k OpKind) Mutation() bool {
	switch k {
	case KindBalance, KindHistory, KindBalances:
		return false
	}
	return true
}

// RetryMode says whether and how a mutation is sent a second time with the
// same Idempotency-Key.
type RetryMode uint8

const (
	RetryNone       RetryMode = iota
	RetryImmediate            // resent as soon as the original returned
	RetryConcurrent           // sent at the same moment as the original
)

func (m RetryMode) String() string {
	switch m {
	case RetryImmediate:
		return "immediate"
	case RetryConcurrent:
		return "concurrent"
	}
	return "none"
}

// Op is one planned operation. It is a pure value: the request it becomes
// depends only on the Op and the Config (KeyPrefix, APIPrefix).
type Op struct {
	ID          uint64
	Kind        OpKind
	Agent       int   // index of the agent (first team member for collaborations)
	AmountMilli int64 // consume, refund, refill, approval
	Team        int   // collaborations: team index
	Members     []int // collaborations: agent indexes, distinct, ≥ 2
	ScoresPct   []int // collaborations: contribution in percent per member
	Retry       RetryMode
}

// planner draws the operation sequence. Not safe for concurrent use.
type planner struct {
	c    Config
	rng  *rand.Rand
	next uint64
}

// planStream is the PCG stream of the operation plan ("plan" in ASCII), so
// other consumers of the seed draw from independent streams.
const planStream = 0x706c616e

func newPlanner(c Config) *planner {
	return &planner{c: c, rng: rand.New(rand.NewPCG(c.Seed, planStream))}
}

func (p *planner) Next() Op {
	c, r := p.c, p.rng
	op := Op{ID: p.next}
	p.next++
	m := c.Mix
	w := r.IntN(m.total())
	pick := func(weight int, k OpKind) bool {
		if w < weight {
			op.Kind = k
			return true
		}
		w -= weight
		return false
	}
	_ = pick(m.Consume, KindConsume) || pick(m.Refund, KindRefund) || pick(m.Refill, KindRefill) ||
		pick(m.Balance, KindBalance) || pick(m.History, KindHistory) || pick(m.Balances, KindBalances) ||
		pick(m.Approval, KindApproval) || pick(m.Collaboration, KindCollaboration)
	op.Agent = r.IntN(c.Agents)
	switch op.Kind {
	case KindConsume:
		op.AmountMilli = 1 + r.Int64N(c.ConsumeMaxMilli)
	case KindRefund:
		op.AmountMilli = 1 + r.Int64N(max(1, c.ConsumeMaxMilli/2))
	case KindRefill:
		op.AmountMilli = c.RefillMilli
	case KindApproval:
		op.AmountMilli = approvalMilli
	case KindCollaboration:
		size := 2 + r.IntN(min(2, c.Agents-1)) // 2 or 3 members
		perm := r.Perm(c.Agents)
		op.Members = append([]int(nil), perm[:size]...)
		op.Agent = op.Members[0]
		op.Team = r.IntN(4)
		for range op.Members {
			op.ScoresPct = append(op.ScoresPct, 10+5*r.IntN(19)) // 10..100%
		}
	}
	switch op.Kind {
	case KindConsume, KindRefund, KindRefill:
		if r.Float64() < c.RetryShare {
			op.Retry = RetryImmediate + RetryMode(r.IntN(2))
		}
	}
	return op
}

// approvalMilli is above the 500-credit threshold so the add is gated (202).
const approvalMilli = 600_000

// Plan returns the first n operations for seed under DefaultConfig's mix.
// Pure: the same seed gives the same operations.
func Plan(seed uint64, n int) []Op {
	c := DefaultConfig()
	c.Seed = seed
	return c.Plan(n)
}

// Plan returns the first n operations this config's attack sends (the attack
// consumes the same sequence, one op per hit, in hit order). n is capped at
// the hard limit of hits per run.
func (c Config) Plan(n int) []Op {
	c = c.withDefaults()
	n = max(0, min(n, maxTotalHits))
	p := newPlanner(c)
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = p.Next()
	}
	return ops
}

// AgentID is the id of agent i in this config's namespace.
func (c Config) AgentID(i int) string { return fmt.Sprintf("%s-agent-%03d", c.KeyPrefix, i) }

// Key is the Idempotency-Key of a planned op (empty for reads). Retries
// reuse it.
func (c Config) Key(op Op) string {
	if !op.Kind.Mutation() {
		return ""
	}
	return c.KeyPrefix + "-op" + strconv.FormatUint(op.ID, 10)
}

// Endpoint is the route template of a kind, used to key histograms.
func Endpoint(k OpKind) string {
	switch k {
	case KindConsume:
		return "POST /consume"
	case KindRefund:
		return "POST /refund"
	case KindRefill, KindSetupAdd:
		return "POST /add"
	case KindBalance:
		return "GET /balance/{id}"
	case KindHistory:
		return "GET /history/{id}"
	case KindBalances:
		return "GET /balances"
	case KindApproval:
		return "POST /approvals"
	case KindApprove:
		return "POST /approvals/{id}/approve"
	case KindCollaboration:
		return "POST /synergie/collaborations"
	case KindSetupAgent:
		return "POST /agents"
	}
	return "unknown"
}

// Principals used in request bodies (dev mode takes identity from the body;
// with tokens the server takes it from Token / ApproverToken).
const (
	actorID     = "load-operator"
	requesterID = "load-requester"
	approverID  = "load-approver"
)

type amountBody struct {
	AgentID string      `json:"agent_id"`
	Amount  json.Number `json:"amount"`
	Reason  string      `json:"reason"`
	ActorID string      `json:"actor_id,omitempty"`
}

// request returns the method, path (with APIPrefix) and body of op.
func (c Config) request(op Op) (method, path string, body []byte) {
	agent := c.AgentID(op.Agent)
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("load: request body of %s does not marshal: %v", op.Kind, err))
		}
		return b
	}
	switch op.Kind {
	case KindConsume:
		return "POST", c.APIPrefix + "/consume", mustJSON(amountBody{agent, money.Credits(op.AmountMilli), "load consume", ""})
	case KindRefund:
		return "POST", c.APIPrefix + "/refund", mustJSON(amountBody{agent, money.Credits(op.AmountMilli), "load refund", ""})
	case KindRefill:
		return "POST", c.APIPrefix + "/add", mustJSON(amountBody{agent, money.Credits(op.AmountMilli), "load refill", actorID})
	case KindBalance:
		return "GET", c.APIPrefix + "/balance/" + url.PathEscape(agent), nil
	case KindHistory:
		return "GET", c.APIPrefix + "/history/" + url.PathEscape(agent) + "?limit=20", nil
	case KindBalances:
		return "GET", c.APIPrefix + "/balances", nil
	case KindApproval:
		return "POST", c.APIPrefix + "/approvals", mustJSON(struct {
			ActionType  string      `json:"action_type"`
			AgentID     string      `json:"agent_id"`
			Amount      json.Number `json:"amount"`
			Reason      string      `json:"reason"`
			RequesterID string      `json:"requester_id"`
		}{"add", agent, money.Credits(op.AmountMilli), "load approval", requesterID})
	case KindCollaboration:
		ids := make([]string, len(op.Members))
		scores := make(map[string]json.Number, len(op.Members))
		for i, m := range op.Members {
			ids[i] = c.AgentID(m)
			scores[ids[i]] = money.Credits(int64(op.ScoresPct[i]) * 10) // percent → 0..1 (thousandths, exact like an amount)
		}
		return "POST", c.APIPrefix + "/synergie/collaborations", mustJSON(struct {
			CollaborationID    string                 `json:"collaboration_id"`
			TeamID             string                 `json:"team_id"`
			MissionID          string                 `json:"mission_id"`
			AgentIDs           []string               `json:"agent_ids"`
			ContributionScores map[string]json.Number `json:"contribution_scores"`
		}{
			fmt.Sprintf("%s-collab-%d", c.KeyPrefix, op.ID),
			fmt.Sprintf("%s-team-%d", c.KeyPrefix, op.Team),
			fmt.Sprintf("%s-mission-%d", c.KeyPrefix, op.ID),
			ids, scores,
		})
	case KindSetupAgent:
		return "POST", c.APIPrefix + "/agents", mustJSON(struct {
			AgentID    string  `json:"agent_id"`
			SkillLevel float64 `json:"skill_level"`
			ActorID    string  `json:"actor_id"`
		}{agent, 1.0, actorID})
	case KindSetupAdd:
		return "POST", c.APIPrefix + "/add", mustJSON(amountBody{agent, money.Credits(op.AmountMilli), "load setup", actorID})
	}
	panic(fmt.Sprintf("load: no request for op kind %q", op.Kind))
}

func approvePath(c Config, requestID string) string {
	return c.APIPrefix + "/approvals/" + url.PathEscape(requestID) + "/approve"
}

func approveBody() []byte { return []byte(`{"approver_id":"` + approverID + `"}`) }
