package engine

import (
	"encoding/json"

	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/event"
)

// payloads returns the plan's payloads, the typed values its rule built
// (Result.Payloads of a new transaction).
func (p *plan) payloads() []any {
	out := make([]any, len(p.events))
	for i, pe := range p.events {
		out[i] = pe.payload
	}
	return out
}

// decodePayloads decodes the payloads of stored events into the typed
// values their rules built (Result.Payloads of a replayed transaction).
func decodePayloads(evs []*event.Envelope) []any {
	out := make([]any, len(evs))
	for i, ev := range evs {
		out[i] = decodePayload(ev)
	}
	return out
}

// decodePayload decodes one payload into the value type the rules use for
// its event type; a type without one stays json.RawMessage.
func decodePayload(ev *event.Envelope) any {
	switch ev.EventType {
	case event.AgentRegistered:
		return decodeAs[event.Agent](ev.Payload)
	case event.CreditAllocated, event.CreditConsumed, event.CreditRefunded, event.CreditWithdrawn, event.CreditRegenerated:
		return decodeAs[event.Credit](ev.Payload)
	case event.ApprovalRequested:
		return decodeAs[event.Approval](ev.Payload)
	case event.ApprovalApproved, event.ApprovalVoteRecorded, event.ApprovalRejected, event.ApprovalExpired:
		return decodeAs[event.Decision](ev.Payload)
	case event.SynergieCollaborationRecorded:
		return decodeAs[event.Collaboration](ev.Payload)
	case event.SynergieRewardGranted, event.SynergieRewardCapped:
		return decodeAs[event.Reward](ev.Payload)
	case event.MissionStarted, event.MissionCompleted, event.MissionFailed, event.MissionCancelled, event.MissionRated:
		return decodeAs[event.Mission](ev.Payload)
	case event.PoolCreated, event.PoolClosed:
		return decodeAs[event.Pool](ev.Payload)
	case event.PoolMemberAdded, event.PoolMemberRemoved:
		return decodeAs[event.PoolMember](ev.Payload)
	case event.PoolAllocated, event.PoolConsumed, event.PoolRefunded, event.PoolTransferred:
		return decodeAs[event.PoolMove](ev.Payload)
	case event.EoCRegulated:
		return decodeAs[eoc.Decision](ev.Payload)
	}
	return json.RawMessage(ev.Payload)
}

// decodeAs decodes raw into a T; a payload the engine wrote always
// decodes, so on error the raw JSON is returned as is.
func decodeAs[T any](raw []byte) any {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return json.RawMessage(raw)
	}
	return v
}
