// Package explore is the seeded generative workload (STYLE 22, issue 17
// "Explore, don't script"): instead of a fixed script it keeps a model of
// the state from the answers it got (agents and balances, approvals and
// their states, missions and what is left of them, pools and members) and
// draws, from the run's seed, valid and near-boundary commands over the
// engine's routes — amounts at, just below and just above balances, the
// approval threshold, the risk-level bounds, the maximum amount and what a
// mission or pool has left; approvals requested, approved, rejected, left to
// expire and then decided; refunds repeated against one mission; pools
// allocated, moved and closed; retries with the same and a different body;
// several principals with bearer tokens, with body principal fields
// (actor_id, requester_id, approver_id) that sometimes contradict the token.
//
// Every boundary a rule compares is driven to, not only sampled: keys in
// the body's idempotency_key member instead of the header for one keyed
// command in four (SPEC §3; a retry keeps the placement); references that
// can only be refused for whose they are (a refund naming another agent's
// mission within what it has left, a non-member consuming within the
// pool's balance); pool balances brought to the threshold ∓ 0.001 before a
// close, agent balances to a mission's estimate ∓ 0.001 before a start;
// collaboration bodies across their edges (a score key outside agent_ids,
// a member without a score, a member listed twice, scores of 0 and 1, a
// score aimed at what is left of the cap). Each kind is reached in every
// run (TestExplorerReachesTheBoundariesOfItsClasses).
//
// What the walk draws too rarely for every run to meet it is swept after
// it, on every run and whatever the budget allowed: each decision route by
// every token that may not decide; each money route at each bound of the
// settings; a mission of every type and complexity, six of them ended at
// the bounds of their rules (a complete just below, at and just above the
// estimate and at 0, a fail, a cancel, a second end); one pool's life
// through its rare states (a member removed, transfers of the whole
// balance, closed pools); a CRITICAL request through its votes (the
// requester's own, one approver twice, a vote without a justification,
// a stale version, a decided
// request) and a CRITICAL withdrawal rejected after one approval; and,
// last, every kind of mutation the walk saw accepted again by every token
// that may not mutate (these two not with Config.OneToken). They come after the walk, which is the same with or
// without them.
//
// With Config.Faults it also lands faults drawn from the seed (on a stream
// of their own) among the commands, at most Config.MaxFaults: kill -9,
// clean restart and power cut (each followed by a start on the same data)
// and KARMA down/slow/up — often right after a refusal while the rest of
// its concurrent group is still in flight, the moment a refusal answered
// from state that is not yet durable shows — and a failed batch: debits
// raced on one agent, mostly queued behind another agent's add whose sync
// is held, so they are decided in one batch whose sync is then held and
// fails (Faults.TrapBatch); a concurrent retry of one debit, a keyed retry
// before the power cut and reads of the agent go out while it waits, and
// the power is then cut. Whatever was answered from that batch's state (a
// refusal, a replay, a balance) is explained by no order once the resends
// after the restart show its debits never became durable. Some steps send 2–4 commands
// at once on one agent, approval or pool (Command.Group). A fault is a
// step of the Run (Command.Fault, with call and return times); commands it
// left without an answer are resent with their key after the restart, and
// keys acknowledged before it are retried. The Faults interface is how the
// harness lends it the target's capabilities: this package never imports
// gates/.
//
// It records every request through the recording scenarios.Client (so the
// history holds them) and returns what it sent and saw (Run). It decides
// nothing: gates/audit (explore*.go) judges every answer and the final
// state against its own reference model.
//
// Like every scenario it talks HTTP only: it never imports engine/ nor
// gates/.
package explore
