//go:build mutant

// Seeded bug agent-credits-float-truncated (gate B): initial credits are skill_level × 100 × 1000 truncated instead of rounded, so e.g. skill 0.57 or 0.29 allocates 56.999 / 28.999 credits

package engine

import (
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
	if amount := int64(in.SkillLevel * 100 * float64(money.PerCredit)); amount > 0 {
		p.addCaused(event.CreditAllocated, event.Credit{AgentID: in.AgentID, AmountMilli: amount,
			BalanceAfterMilli: amount, Reason: "agent_created"}, i, "")
	}
	return p, nil
}
