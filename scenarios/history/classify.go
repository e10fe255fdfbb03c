package history

import (
	"cmp"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/creditgate/creditgate/scenarios/money"
)

// Response is what came back for one request.
type Response struct {
	Status int
	// Replayed is the Idempotent-Replayed: true header.
	Replayed bool
	Body     []byte
	Err      error // transport error or timeout
}

// Classify is the one mapping from an HTTP answer to an outcome: no answer
// (err, status 0) or a 5xx is Unknown; a 2xx is Replayed when it carries
// Idempotent-Replayed: true, else OK; anything else is Refused.
func Classify(status int, replayed bool, err error) Outcome {
	switch {
	case err != nil || status == 0 || status >= 500:
		return Unknown
	case status >= 200 && status < 300 && replayed:
		return Replayed
	case status >= 200 && status < 300:
		return OK
	}
	return Refused
}

// body is the part of a response the history keeps.
type body struct {
	EventID         string `json:"event_id"`
	DecisionEventID string `json:"decision_event_id"`
	RequestID       string `json:"request_id"`
	Code            string `json:"code"`
	Detail          string `json:"detail"`
	Status          string `json:"status"`
	Duplicate       bool   `json:"duplicate"`
	// Money, verbatim (see Op.BalanceAfter).
	Balance      json.RawMessage `json:"balance"`
	Amount       json.RawMessage `json:"amount"`
	BalanceAfter json.RawMessage `json:"balance_after"`
	// The winning decision of an already_decided refusal: SPEC §5 puts it
	// "in the body" without naming the member, so ours ("winner":
	// {"decision_event_id"}) and the plain form ("decision": {"event_id"})
	// are both read.
	Winner *struct {
		DecisionEventID string `json:"decision_event_id"`
		EventID         string `json:"event_id"`
	} `json:"winner"`
	Decision json.RawMessage `json:"decision"` // an object there; ours answers a decision's type here
	History  []struct {
		EventID string `json:"event_id"`
	} `json:"history"`
}

// Fill classifies r into op: outcome, status, code, event ids, approval
// state, for a balance read the balance in milli-credits, and the money
// text of an acknowledged write or a balance read verbatim (BalanceAfter,
// AnswerAmount, ReadRaw).
func Fill(op *Op, r Response) {
	op.Status = r.Status
	op.Outcome = Classify(r.Status, r.Replayed, r.Err)
	if r.Err != nil {
		op.Err = truncate(r.Err.Error(), 200)
		return
	}
	if len(r.Body) == 0 || (!op.Kind.Mutation() && op.Kind != KindReadBalance && op.Kind != KindReadHistory && r.Status < 300) {
		return
	}
	var b body
	if err := json.Unmarshal(r.Body, &b); err != nil {
		if r.Status >= 300 {
			op.Err = truncate(string(r.Body), 200)
		}
		return
	}
	op.Code, op.RequestID, op.Duplicate = b.Code, b.RequestID, b.Duplicate
	op.EventID = b.EventID
	if op.EventID == "" {
		op.EventID = b.DecisionEventID
	}
	if op.Kind.Decision() {
		op.State = b.Status
	}
	switch {
	case b.Winner != nil:
		op.WinnerEventID = cmp.Or(b.Winner.DecisionEventID, b.Winner.EventID)
	case len(b.Decision) > 0 && b.Decision[0] == '{' && r.Status >= 300:
		var d struct {
			EventID         string `json:"event_id"`
			DecisionEventID string `json:"decision_event_id"`
		}
		if json.Unmarshal(b.Decision, &d) == nil {
			op.WinnerEventID = cmp.Or(d.EventID, d.DecisionEventID)
		}
	}
	if r.Status >= 300 {
		op.Err = truncate(b.Detail, 200)
		op.EventID = "" // a refusal names no event of its own
	}
	if op.Kind.Mutation() && op.Outcome.Acked() {
		op.AnswerAmount, op.BalanceAfter = string(b.Amount), string(b.BalanceAfter)
		if op.Kind == KindCreateAgent && op.BalanceAfter == "" {
			op.BalanceAfter = string(b.Balance)
		}
	}
	if op.Kind == KindReadBalance && op.Outcome == OK && len(b.Balance) > 0 {
		op.ReadRaw = string(b.Balance)
		if m, err := money.ParseMilli(strings.Trim(op.ReadRaw, `"`)); err == nil {
			op.ReadMilli, op.HasRead = m, true
		}
	}
	if op.Kind == KindReadHistory && op.Outcome == OK && b.History != nil {
		op.HasRead = true
		if len(b.History) > 0 {
			op.ReadNewest = b.History[0].EventID
		}
	}
}

// HashBody is the BodyHash of a request body: FNV-1a 64, hex.
func HashBody(body []byte) string {
	h := fnv.New64a()
	h.Write(body)
	return strconv.FormatUint(h.Sum64(), 16)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
