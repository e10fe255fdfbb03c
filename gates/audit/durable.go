package audit

import (
	"fmt"
	"slices"

	"github.com/creditgate/creditgate/scenarios/money"
)

// Check names of the judges of a batch whose sync failed (gate D, a
// failure aimed at one batch), judged against the journal that survived.
const (
	CheckRefusalJustified = "D52 a refusal for insufficient credits is justified by a balance the durable journal held"
	CheckReadDurable      = "D53 every balance read is one the durable journal held"
)

// BalancesHeld lists, in journal order, every balance agent had in the
// journal after a whole command (the events of one transaction are one
// step: an agent's registration and its allocation leave one balance),
// from its first on; an agent the journal never names has none.
func BalancesHeld(j *Journal, agent string) []int64 {
	m := NewModel()
	m.Ours = j.Ours
	evs := j.Events()
	g := groupTx(evs, j.Ours)
	var held []int64
	for i, e := range evs {
		m.Apply(e)
		if i+1 < len(evs) && g.primary[i+1] == g.primary[i] {
			continue // the command goes on
		}
		if b, ok := m.Balances[agent]; ok && (len(held) == 0 || held[len(held)-1] != b) {
			held = append(held, b)
		}
	}
	return held
}

// Refusal is a debit answered 409 insufficient_credits.
type Refusal struct {
	What        string // the call, for the report ("consume k1 of 60")
	AmountMilli int64
}

// RefusalsJustified judges refusals of debits of one agent against the
// balances it held in the durable journal (BalancesHeld): a debit of a is
// refused for insufficient credits only if the agent held less than a at
// some point. A refusal no durable balance justifies was decided on state
// that never became durable (a failed batch's earlier debit).
func RefusalsJustified(agent string, held []int64, refusals []Refusal) Finding {
	var v violations
	v.judged = len(refusals)
	for _, r := range refusals {
		if len(held) == 0 {
			v.add("%s: refused for insufficient credits, but the journal never names agent %q", r.What, agent)
			continue
		}
		if low := slices.Min(held); low >= r.AmountMilli {
			v.add("%s: refused for insufficient credits, but agent %q never held less than %s in the durable journal (balances held: %s)",
				r.What, agent, money.FormatMilli(low), formatMillis(held))
		}
	}
	return v.finding(CheckRefusalJustified, fmt.Sprintf("%d of %d refusals unjustified", v.count, len(refusals)), "0", "")
}

// BalanceRead is one 2xx balance read.
type BalanceRead struct {
	What         string // the read, for the report
	BalanceMilli int64
}

// ReadsDurable judges 2xx balance reads of one agent: each must show a
// balance the agent held in the durable journal (BalancesHeld).
func ReadsDurable(agent string, held []int64, reads []BalanceRead) Finding {
	var v violations
	v.judged = len(reads)
	for _, r := range reads {
		if !slices.Contains(held, r.BalanceMilli) {
			v.add("%s: balance %s, which agent %q never held in the durable journal (balances held: %s)",
				r.What, money.FormatMilli(r.BalanceMilli), agent, formatMillis(held))
		}
	}
	return v.finding(CheckReadDurable, fmt.Sprintf("%d of %d reads not durable", v.count, len(reads)), "0", "")
}

func formatMillis(ms []int64) string {
	s := ""
	for i, m := range ms {
		if i == 8 {
			return s + fmt.Sprintf(" … (%d in all)", len(ms))
		}
		if i > 0 {
			s += ", "
		}
		s += money.FormatMilli(m)
	}
	if s == "" {
		return "none"
	}
	return s
}
