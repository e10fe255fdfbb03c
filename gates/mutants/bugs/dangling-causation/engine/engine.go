//go:build mutant

// Seeded bug dangling-causation (gate A, check A5): derived events point at
// an event that does not exist.

package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/store"
	"github.com/google/uuid"
)

// sealLocked turns a plan into envelopes with seq, ids, keys and causation,
// encodes them and only then folds them into the read models, so a plan
// that cannot be encoded leaves nothing folded. The caller commits the
// records before it answers anyone from the folded state.
func (e *Engine) sealLocked(req Request, p *plan, now time.Time) ([]*event.Envelope, []store.Record, error) {
	now = now.UTC()
	corr := req.CorrelationID
	key := req.IdempotencyKey
	evs := make([]*event.Envelope, len(p.events))
	recs := make([]store.Record, len(p.events))
	for i, pe := range p.events {
		payload, err := json.Marshal(pe.payload)
		if err != nil {
			return nil, nil, fmt.Errorf("engine: encode %s payload: %w", pe.typ, err)
		}
		ev := &event.Envelope{
			Seq: e.seq + uint64(i) + 1, EventID: newEventID(), EventType: pe.typ, Timestamp: now,
			ActorID: req.ActorID, SchemaVersion: event.SchemaVersion, Payload: payload, Metadata: pe.meta,
		}
		if corr == "" {
			corr = ev.EventID
		}
		ev.CorrelationID = corr
		switch {
		case pe.causedBy >= 0:
			dangling := uuid.NewString()
			ev.CausationID = &dangling
		case pe.cause != "":
			c := pe.cause
			ev.CausationID = &c
		}
		if i == 0 && key == "" {
			key = "srv-" + ev.EventID // unique, never reusable by a client
		}
		if i == 0 {
			ev.IdempotencyKey = key
			if req.IdempotencyKey != "" {
				if ev.Metadata == nil {
					ev.Metadata = &event.Metadata{}
				}
				ev.Metadata.RequestHash = req.RequestHash
			}
			if len(p.events) > 1 {
				ev.TxSize = len(p.events)
			}
		} else {
			ev.IdempotencyKey = fmt.Sprintf("%s#%d", key, i)
		}
		evs[i] = ev
	}
	for i, ev := range evs {
		line, err := event.Encode(ev)
		if err != nil {
			return nil, nil, err
		}
		recs[i] = store.RecordOf(ev, line)
	}
	for _, ev := range evs {
		if err := e.models.apply(ev); err != nil {
			// The rule produced an event the fold rejects: a bug, not an
			// operating condition.
			panic(fmt.Sprintf("engine: rule produced an unfoldable event: %v", err))
		}
	}
	e.seq += uint64(len(evs))
	return evs, recs, nil
}
