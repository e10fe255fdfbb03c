package load

import (
	"github.com/creditgate/creditgate/scenarios/history"
)

// historyKind maps a plan kind to the one history's kind.
func historyKind(k OpKind) history.Kind {
	switch k {
	case KindConsume:
		return history.KindConsume
	case KindRefund:
		return history.KindRefund
	case KindRefill, KindSetupAdd:
		return history.KindAdd
	case KindBalance:
		return history.KindReadBalance
	case KindHistory:
		return history.KindReadHistory
	case KindBalances:
		return history.KindReadBalances
	case KindApproval:
		return history.KindApprovalRequest
	case KindApprove:
		return history.KindApprove
	case KindCollaboration:
		return history.KindCollaboration
	case KindSetupAgent:
		return history.KindCreateAgent
	}
	return history.KindUnknown
}

// historyRole maps a request's role within its hit to the history's role.
func historyRole(r role) history.Role {
	return [...]history.Role{history.Original, history.Retry, history.ConcurrentDuplicate, history.FollowUp, history.Setup}[r]
}

// expectedRefusal reports a refusal the load provokes on purpose (a drained
// agent; an agent left by an earlier run against the same prefix). It only
// sorts the run's counters; gates/audit judges the history.
func expectedRefusal(kind OpKind, h history.Op) bool {
	if h.Outcome != history.Refused || h.Status != 409 {
		return false
	}
	return (kind == KindConsume && h.Code == "insufficient_credits") || (kind == KindSetupAgent && h.Code == "agent_exists")
}
