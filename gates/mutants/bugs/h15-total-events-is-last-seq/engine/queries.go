//go:build mutant

// Seeded bug h15-total-events-is-last-seq (gate D): GET /metrics journal.total_events (and /info's) is the last seq, so after a recovery that quarantined lines it counts events the journal no longer holds

package engine

import (
	"github.com/creditgate/creditgate/engine/store"
)

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
		TotalEvents: seq, Published: e.stats.published.Load(),
		Commands: e.stats.commands.Load(), IdempotentReplays: e.stats.replays.Load(),
		Anomalies: e.stats.anomalies.Load(), DetectorFailures: e.stats.detectorFailures.Load(),
		ReplayEvents: e.stats.replayEvents, ReplaySeconds: e.stats.replayDuration.Seconds(),
		Journal: e.journalStats(), Seq: seq, IdempotencyKeys: keys, FsyncEnabled: !e.cfg.Journal.NoSync,
	}
}
