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
// It records every request through the recording scenarios.Client (so the
// history holds them) and returns what it sent and saw (Run). It decides
// nothing: gates/audit (explore*.go) judges every answer and the final
// state against its own reference model.
//
// Like every scenario it talks HTTP only: it never imports engine/ nor
// gates/.
package explore
