package mutants

// hunt4bMoneyMutants come from the fourth blind hunt (bugs written from
// the SPEC and the engine without reading the gates): a mission's end and
// a pool's close deciding on the entity as read when the request arrived
// (branch hunt4a), and the synergie cap's accounting (branch hunt4b). They
// got GO then; each names the gate B check built for its class (the
// money-path races and the synergie cap edges, docs/gates.md "Bugs written
// blind").
func hunt4bMoneyMutants() []Mutant {
	return []Mutant{
		{Name: "mission-end-cap-read-at-arrival", Gate: "b", Check: "B55",
			Bug: "ending a mission caps its refund by the mission as read before queueing: a POST /refund against it committed meanwhile is not counted, so the mission refunds more than it consumed"},
		{Name: "pool-close-remainder-read-at-arrival", Gate: "b", Check: "B56",
			Bug: "closing a pool pays the remainder read before queueing: a pool consume committed meanwhile is paid out again to the refund_to agent"},
		{Name: "synergie-capped-only-when-partly-paid", Gate: "b", Check: "B57",
			Bug: "synergie.reward_capped is written only when part of the reward was still paid: once an agent is at the cap its withheld rewards are not recorded"},
		{Name: "synergie-key-colon-collision", Gate: "b", Check: "B58",
			Bug: "the synergie account key joins team and agent with \":\", which ids may contain: team \"t:a\" with agent \"b\" and team \"t\" with agent \"a:b\" share one cap account"},
	}
}
