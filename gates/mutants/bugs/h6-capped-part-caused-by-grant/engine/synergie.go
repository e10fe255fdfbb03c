//go:build mutant

// Seeded bug h6-capped-part-caused-by-grant (blind hunt 6): the synergie.reward_capped event of the
// reward that crosses the per-team cap (partly paid, partly withheld) gets causation_id = the
// synergie.reward_granted event of its paid part instead of its synergie.collaboration_recorded event
// (SPEC §2: 'a reward or a reward_capped points at its collaboration event'): rewardAgent reuses c for
// the grant's index. Fully capped rewards and every grant still point at the collaboration; amounts,
// balances and synergie totals are unchanged, and the causation still names an earlier event. A
// journal auditor sees it: CREDITD_SYNERGIE_CAP=70 (base 50), agents a and b; POST
// /synergie/collaborations c1 then c2 (team alpha, contributions 1 each): c2 answers granted 20 +
// capped 30 per agent, and in GET /events the reward_capped events of c2 have causation_id = the
// reward_granted event right before them, not c2's collaboration_recorded. With the defaults (cap 500)
// it happens once per agent and team, at the reward that reaches the cap with a remainder.

package engine

import (
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/karma"
)

// rewardAgent adds one agent's reward of a collaboration to p: the paid
// part as synergie.reward_granted (with its KARMA metadata), the part above
// the cap as synergie.reward_capped; both are caused by the collaboration
// event, the plan's event c.
func rewardAgent(p *plan, r event.Reward, amount, paid, balance int64, score karma.Score, c int) {
	if paid > 0 {
		g := r
		g.AmountMilli, g.BalanceAfterMilli = paid, balance+paid
		c = p.addCaused(event.SynergieRewardGranted, g, c, "")
		p.events[c].meta = karmaMeta(score)
	}
	if amount > paid {
		w := r
		w.AmountMilli = amount - paid
		p.addCaused(event.SynergieRewardCapped, w, c, "")
	}
}
