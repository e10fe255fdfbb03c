package audit

import (
	"fmt"
	"math"

	"github.com/creditgate/creditgate/scenarios/money"
)

// Check names of the money bounds judged from the journal alone (gate B,
// the money-path races).
const (
	CheckMissionRefundBound = "B55 per mission, refunds total at most what it consumed"
	CheckPoolCloseBound     = "B56 per pool, consumed plus paid out is at most what came in"
	CheckRewardsRecorded    = "B57 every reward is journaled, paid or reward_capped"
	CheckCapPerPair         = "B58 the synergie cap is per (team, agent) pair"
)

// MissionRefundBound judges every mission that was refunded (its end or
// a POST /refund naming it): the refunds total at most its consumption
// (SPEC §5: refunds are bounded by the mission).
func MissionRefundBound(m *Model) Finding {
	var v violations
	direct := 0
	for _, id := range sortedKeys(m.Missions) {
		ms := m.Missions[id]
		if ms.RefundedMilli == 0 && ms.DirectRefunds == 0 {
			continue
		}
		v.judged++
		direct += ms.DirectRefunds
		if ms.RefundedMilli > ms.ConsumedMilli {
			v.add("mission %q (%s): consumed %s, refunded %s (%d refunds naming it besides its end): %s more than it consumed",
				id, ms.Status, money.FormatMilli(ms.ConsumedMilli), money.FormatMilli(ms.RefundedMilli), ms.DirectRefunds,
				money.FormatMilli(ms.RefundedMilli-ms.ConsumedMilli))
		}
	}
	return v.finding(CheckMissionRefundBound, fmt.Sprintf("%d of %d refunded missions over their consumption", v.count, v.judged),
		"0", fmt.Sprintf("%d refunds named a mission besides the ends", direct))
}

// PoolCloseBound judges every pool: what went out (consumes, transfers
// out) plus what its close paid out is at most what came in, a close pays
// exactly what is left, the balance never went below zero and nothing
// moved after the close.
func PoolCloseBound(m *Model) Finding {
	var v violations
	closed := 0
	for _, id := range sortedKeys(m.Pools) {
		p := m.Pools[id]
		v.judged++
		in, out, paid := p.InMilli, p.OutMilli, p.PaidOutMilli
		switch {
		case out+paid > in:
			v.add("pool %q: %s came in, %s went out and its close paid %s: %s more than it held",
				id, money.FormatMilli(in), money.FormatMilli(out), money.FormatMilli(paid), money.FormatMilli(out+paid-in))
		case p.Closed && paid != in-out:
			v.add("pool %q: closed with %s left, its close paid %s", id, money.FormatMilli(in-out), money.FormatMilli(paid))
		case p.Negative > 0:
			v.add("pool %q: balance below zero after %d events", id, p.Negative)
		case p.AfterClose > 0:
			v.add("pool %q: %d moves after its close", id, p.AfterClose)
		}
		if p.Closed {
			closed++
		}
	}
	return v.finding(CheckPoolCloseBound, fmt.Sprintf("%d of %d pools (%d closed) paid out more than they held", v.count, v.judged, closed), "0", "")
}

// RewardsRecorded judges every recorded collaboration: each of its agents
// whose reward is positive whatever its KARMA score (base × contribution ×
// 0.5 ≥ 1 milli) has a reward_granted or a reward_capped for it (SPEC §5:
// the part above the cap is not paid and reward_capped records it); and
// per agent and team, the granted total is min(cap, all rewards) and the
// reward_capped total the rest. FullyCapped counts the rewards withheld
// whole (the agent was at the cap): the case a check must reach.
func RewardsRecorded(m *Model, capMilli int64) (Finding, int) {
	var v violations
	type key struct{ collab, agent string }
	type pair struct{ agent, team string }
	seen := map[key]bool{}
	type tot struct{ g, c, capSeen int64 }
	tots := map[pair]*tot{}
	var order []pair
	fullyCapped := 0
	byCollab := map[key][2]int64{}
	for _, r := range m.Rewards {
		k := key{r.CollaborationID, r.AgentID}
		seen[k] = true
		gc := byCollab[k]
		if r.Capped {
			gc[1] += r.AmountMilli
		} else {
			gc[0] += r.AmountMilli
		}
		byCollab[k] = gc
		p := pair{r.AgentID, r.TeamID}
		t := tots[p]
		if t == nil {
			t = &tot{}
			tots[p] = t
			order = append(order, p)
		}
		t.capSeen = r.CapMilli
		if r.Capped {
			t.c += r.AmountMilli
		} else {
			t.g += r.AmountMilli
		}
	}
	for _, gc := range byCollab {
		if gc[0] == 0 && gc[1] > 0 {
			fullyCapped++
		}
	}
	for _, c := range m.Collaborations {
		for _, a := range c.AgentIDs {
			contrib := c.ContributionScores[a]
			least := int64(math.Floor(float64(m.Formulas.SynergieBaseMilli) * contrib * 0.5))
			if least <= 0 {
				continue
			}
			v.judged++
			if !seen[key{c.CollaborationID, a}] {
				v.add("seq %d collaboration %q team %q agent %q (contribution %v, a reward of at least %s): neither reward_granted nor reward_capped",
					c.Seq, c.CollaborationID, c.TeamID, a, contrib, money.FormatMilli(least))
			}
		}
	}
	for _, p := range order {
		t := tots[p]
		cp := capMilli
		if cp <= 0 {
			cp = t.capSeen
		}
		v.judged++
		if total := t.g + t.c; t.g != min(cp, total) || t.c != total-min(cp, total) {
			v.add("agent %q team %q: rewards %s in all, granted %s and reward_capped %s; the cap %s gives granted %s, withheld %s",
				p.agent, p.team, money.FormatMilli(total), money.FormatMilli(t.g), money.FormatMilli(t.c), money.FormatMilli(cp),
				money.FormatMilli(min(cp, total)), money.FormatMilli(total-min(cp, total)))
		}
	}
	return v.finding(CheckRewardsRecorded, fmt.Sprintf("%d violations over %d collaborations (%d rewards withheld whole)", v.count, len(m.Collaborations), fullyCapped),
		"0", ""), fullyCapped
}

// CapPerPair judges the rewards of the given agents against the cap of
// their own (team, agent) pair, as the model folds it (each pair its own
// account): every collaboration pays min(reward, cap − granted before in
// that team) and records the rest as reward_capped, and each agent was
// paid something. Ids holding a separator ("t:a" + "b" and "t" + "a:b")
// must not share an account.
func CapPerPair(m *Model, capMilli int64, agents []string) Finding {
	var v violations
	want := map[string]bool{}
	for _, a := range agents {
		want[a] = true
	}
	type key struct{ collab, agent string }
	type acc struct {
		team             string
		before, g, c, cp int64
	}
	accs := map[key]*acc{}
	var order []key
	paid := map[string]int64{}
	for _, r := range m.Rewards {
		if !want[r.AgentID] {
			continue
		}
		k := key{r.CollaborationID, r.AgentID}
		a := accs[k]
		if a == nil {
			a = &acc{team: r.TeamID, before: r.GrantedBeforeTeam, cp: r.CapMilli}
			accs[k] = a
			order = append(order, k)
		}
		if r.Capped {
			a.c += r.AmountMilli
		} else {
			a.g += r.AmountMilli
			paid[r.AgentID] += r.AmountMilli
		}
	}
	for _, k := range order {
		a := accs[k]
		cp := capMilli
		if cp <= 0 {
			cp = a.cp
		}
		v.judged++
		room := max(cp-a.before, 0)
		if withheld := max(a.g+a.c-room, 0); a.g > room || a.c != withheld {
			v.add("collaboration %q agent %q team %q: %s granted before in this team, so %s paid and %s withheld; the journal says %s paid, %s reward_capped",
				k.collab, k.agent, a.team, money.FormatMilli(a.before), money.FormatMilli(min(a.g+a.c, room)), money.FormatMilli(withheld),
				money.FormatMilli(a.g), money.FormatMilli(a.c))
		}
	}
	for _, a := range agents {
		if paid[a] == 0 {
			v.add("agent %q: never paid a reward (its team's account is its own, with room under the cap)", a)
		}
	}
	return v.finding(CheckCapPerPair, fmt.Sprintf("%d violations over %d rewards of %d agents", v.count, v.judged, len(agents)), "0", "")
}
