//go:build mutant

// Seeded bug h14-replay-duration-in-ms (blind hunt 14, in our engine):
// GET /metrics' replay.replay_duration_seconds carries the replay's
// milliseconds. Breaks SPEC §6 (replay_duration_seconds).

package engine

import "github.com/creditgate/creditgate/engine/store"

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
		ReplayEvents: e.stats.replayEvents, ReplaySeconds: float64(e.stats.replayDuration.Milliseconds()), // BUG: milliseconds
		Journal: e.journalStats(), Seq: seq, IdempotencyKeys: keys, FsyncEnabled: !e.cfg.Journal.NoSync,
	}
}
