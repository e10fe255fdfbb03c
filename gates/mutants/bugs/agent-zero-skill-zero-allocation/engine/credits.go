//go:build mutant

// Seeded bug agent-zero-skill-zero-allocation (gate B): registering an agent with skill_level 0 journals a credit.allocated of 0 milli-credits (>= 0 instead of > 0): a zero-amount money event

package engine

import (
	"math"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
)

// createAgentRule registers a new agent with its skill_level × 100 credits.
func createAgentRule(v View, in agentInput, _ time.Time) (*plan, error) {
	if _, ok := v.Agent(in.AgentID); ok {
		return nil, refuse(CodeAgentExists, nil, "agent %q already exists", in.AgentID)
	}
	if q := v.quarantined("agent", in.AgentID); q != nil {
		return nil, q
	}
	p := &plan{}
	i := p.add(event.AgentRegistered, event.Agent{AgentID: in.AgentID, SkillLevel: in.SkillLevel}, nil)
	if amount := int64(math.Round(in.SkillLevel * 100 * float64(money.PerCredit))); amount >= 0 {
		p.addCaused(event.CreditAllocated, event.Credit{AgentID: in.AgentID, AmountMilli: amount,
			BalanceAfterMilli: amount, Reason: "agent_created"}, i, "")
	}
	return p, nil
}
