package engine

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/creditgate/creditgate/engine/eoc"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/karma"
	"github.com/creditgate/creditgate/engine/projection"
	"github.com/creditgate/creditgate/engine/store"
)

// Balance returns an agent's balance in milli-credits.
func (e *Engine) Balance(agentID string) (int64, error) {
	var a projection.AgentView
	var ok bool
	if err := e.read(func(st *projection.State) { a, ok = st.Agent(agentID) }); err != nil {
		return 0, err
	}
	if !ok {
		return 0, e.unknown("agent", agentID)
	}
	return a.BalanceMilli, nil
}

// Balances returns every agent's balance.
func (e *Engine) Balances() (map[string]int64, error) {
	var out map[string]int64
	err := e.read(func(st *projection.State) { out = st.Balances() })
	return out, err
}

// MaxHistoryLimit bounds one ledger page.
const MaxHistoryLimit = 1000

// History returns an agent's ledger newest first. Pages beyond the
// in-memory window are read from the journal, so memory stays bounded.
func (e *Engine) History(agentID string, offset, limit int) ([]projection.Entry, error) {
	limit = min(max(limit, 1), MaxHistoryLimit)
	offset = max(offset, 0)
	var entries []projection.Entry
	var complete, ok bool
	var total int64
	err := e.read(func(st *projection.State) {
		var a projection.AgentView
		if a, ok = st.Agent(agentID); ok {
			total = a.Entries
			entries, complete = st.Ledger(agentID, offset, limit)
		}
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, e.unknown("agent", agentID)
	}
	if complete {
		return entries, nil
	}
	return e.historyFromJournal(agentID, total, offset, limit)
}

// historyFromJournal folds the agent's entries from the journal and returns
// the requested page. It keeps only offset+limit entries in memory.
func (e *Engine) historyFromJournal(agentID string, total int64, offset, limit int) ([]projection.Entry, error) {
	if err := e.scans.acquire(); err != nil { // bounded, cancelled at shutdown: deepscan.go
		return nil, err
	}
	defer e.scans.release()
	want := offset + limit
	ring := make([]projection.Entry, 0, want)
	var balance int64
	var cancelled bool
	err := e.iterate(0, func(_ []byte, ev *event.Envelope) bool {
		if cancelled = e.scans.cancelled(); cancelled {
			return false
		}
		id, delta, reason, mission, ok := projection.AgentDelta(ev)
		if !ok || id != agentID {
			return true
		}
		balance += delta
		en := projection.Entry{Seq: ev.Seq, EventID: ev.EventID, EventType: ev.EventType, Timestamp: ev.Timestamp,
			AmountMilli: delta, BalanceAfterMilli: balance, Reason: reason, MissionID: mission}
		if len(ring) < want {
			ring = append(ring, en)
		} else {
			copy(ring, ring[1:])
			ring[want-1] = en
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if cancelled {
		return nil, ErrClosed
	}
	// ring holds the oldest-to-newest tail; return newest first after offset.
	var out []projection.Entry
	for i := len(ring) - 1 - offset; i >= 0 && len(out) < limit; i-- {
		out = append(out, ring[i])
	}
	return out, nil
}

// EoC returns the Edge-of-Chaos snapshot.
func (e *Engine) EoC() (eoc.Snapshot, error) {
	var s eoc.Snapshot
	err := e.read(func(*projection.State) { s = e.models.eoc.Snapshot() })
	return s, err
}

// regulationLocked returns the plan of the oldest EoC window over by now,
// nil when none is. eoc.State.Due only reads (the window leaves the state
// when the journaled decision is folded, live and on replay alike); what is
// journaled for it is regulationRule's.
func (e *Engine) regulationLocked(now time.Time) *plan {
	d, ok := e.models.eoc.Due(now)
	if !ok {
		return nil
	}
	return regulationRule(d)
}

// regulationRule journals an EoC decision as an eoc.regulated event; the
// payload is the eoc.Decision, folded by models.apply.
func regulationRule(d eoc.Decision) *plan {
	p := &plan{}
	p.add(event.EoCRegulated, d, nil)
	return p
}

// KarmaStatus describes the KARMA dependency.
func (e *Engine) KarmaStatus() karma.Status {
	if e.scorer == nil {
		return karma.Status{State: karma.StateDisabled}
	}
	return e.scorer.Status()
}

// Health summarises the engine for /health.
type Health struct {
	Status     string `json:"status"` // healthy | degraded | failed
	Journal    string `json:"journal"`
	JournalErr string `json:"journal_error,omitempty"`
	Recovery   string `json:"recovery"` // clean | repaired
	// QuarantinedEntities names ("kind id") the entities whose first event
	// recovery lost; their later events were left out of the replay.
	QuarantinedEntities []string    `json:"quarantined_entities,omitempty"`
	Karma               karma.State `json:"karma"`
	Seq                 uint64      `json:"seq"`
	Uptime              string      `json:"uptime"`
	Reasons             []string    `json:"reasons,omitempty"`
}

// Health reports: failed when the journal failed; degraded when recovery
// repaired the journal or KARMA is not healthy; healthy otherwise.
func (e *Engine) Health() Health {
	h := Health{Status: "healthy", Journal: "ok", Recovery: "clean", Uptime: time.Since(e.opened).Round(time.Second).String()}
	e.mu.Lock()
	h.Seq = e.seq
	failed := e.failed
	e.mu.Unlock()
	if !e.recovery.Clean {
		h.Recovery = "repaired"
		h.Status = "degraded"
		h.Reasons = append(h.Reasons, "journal recovery repaired the file: see /api/credits/journal/verify")
	}
	if n := len(e.recovery.Lost); n > 0 {
		for _, l := range e.recovery.Lost {
			h.QuarantinedEntities = append(h.QuarantinedEntities, l.Kind+" "+l.ID)
		}
		h.Reasons = append(h.Reasons, fmt.Sprintf("%d entities quarantined: their first event was lost, %d later events about them left out of the replay",
			n, e.recovery.DependentCount()))
	}
	h.Karma = e.KarmaStatus().State
	if h.Karma != karma.StateHealthy && h.Karma != karma.StateDisabled {
		h.Status = "degraded"
		h.Reasons = append(h.Reasons, "KARMA is "+string(h.Karma)+": scores fall back")
	}
	if failed != nil {
		h.Status, h.Journal, h.JournalErr = "failed", "failed", failed.Error()
	}
	e.storeHealth(&h)
	return h
}

// stats are counters for /metrics.
type stats struct {
	commands, replays, anomalies, detectorFailures atomic.Int64
	published                                      atomic.Int64 // events this instance committed
	replayEvents                                   uint64
	replayDuration                                 time.Duration
}

// count records a committed command's outcome: the pipeline counts from
// what was committed, the rules count nothing (a refused or failed command
// flagged nothing).
func (s *stats) count(res Result) {
	s.commands.Add(1)
	for _, ev := range res.Events {
		if m := ev.Metadata; m != nil {
			if m.AnomalyDetected {
				s.anomalies.Add(1)
			}
			if m.AnomalyDetector == "unavailable" {
				s.detectorFailures.Add(1)
			}
		}
	}
}

// Stats is a snapshot of the engine's counters.
type Stats struct {
	Commands          int64         `json:"commands"`
	IdempotentReplays int64         `json:"idempotent_replays"`
	Anomalies         int64         `json:"anomalies_flagged"`
	DetectorFailures  int64         `json:"detector_failures"`
	ReplayEvents      uint64        `json:"replay_events"`
	ReplaySeconds     float64       `json:"replay_seconds"`
	Journal           journal.Stats `json:"journal"`
	Seq               uint64        `json:"seq"`
	IdempotencyKeys   int           `json:"idempotency_keys"`
	FsyncEnabled      bool          `json:"fsync_enabled"`
	// Storage and StoreLocation name the store (store.Description).
	Storage       string `json:"storage"`
	StoreLocation string `json:"store_location"`
	// TotalEvents is how many events the stream holds as of Seq (every
	// instance's, less what recovery left out of the replay); Published
	// how many of them this instance committed since it started.
	TotalEvents uint64 `json:"total_events"`
	Published   int64  `json:"published"`
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	_ = e.catchUpLocked() // a shared store: the stream's seq, not this instance's last look (no-op for the journal)
	seq, keys := e.seq, e.keys.len()
	e.mu.Unlock()
	d := store.Description{Kind: "custom"}
	if ds, ok := e.store.(store.Describer); ok {
		d = ds.Describe()
	}
	return Stats{
		Storage: d.Kind, StoreLocation: d.Location,
		TotalEvents: seq - min(seq, e.recovery.LastSeq-e.recovery.Events), Published: e.stats.published.Load(),
		Commands: e.stats.commands.Load(), IdempotentReplays: e.stats.replays.Load(),
		Anomalies: e.stats.anomalies.Load(), DetectorFailures: e.stats.detectorFailures.Load(),
		ReplayEvents: e.stats.replayEvents, ReplaySeconds: e.stats.replayDuration.Seconds(),
		Journal: e.journalStats(), Seq: seq, IdempotencyKeys: keys, FsyncEnabled: !e.cfg.Journal.NoSync,
	}
}
