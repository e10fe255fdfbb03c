//go:build mutant

// Seeded bug durable-offset-before-sync (gate D): the durable offset (what Iterate, hence GET /events and the journal reads, may see) is advanced before the batch is written and synced, and also when the write or sync fails: readers see lines that were never acknowledged, a refused append's line (or part of it) included

package journal

// commit writes a batch with one write and one sync and resolves it. After
// a failure nothing is ever written or synced again.
func (j *Journal) commit(batch []submission, buf []byte) []byte {
	err := j.Err()
	if err == nil {
		start := j.durable.Load()
		events := 0
		for _, s := range batch {
			for _, l := range s.lines {
				buf = append(buf, l...)
				events++
			}
		}
		j.durable.Store(start + int64(len(buf)))
		err = j.writeAndSync(buf)
		if err == nil {
			j.indexBatch(batch, start)
			j.stats.appends.Add(uint64(events))
			j.stats.batches.Add(1)
			j.stats.bytes.Add(uint64(len(buf)))
			if int64(events) > j.stats.maxBatch.Load() {
				j.stats.maxBatch.Store(int64(events))
			}
		}
	}
	for _, s := range batch {
		s.done <- err
	}
	// Keep the buffer for the next batch unless one huge batch inflated it.
	if cap(buf) > 64<<20 {
		return nil
	}
	return buf
}
