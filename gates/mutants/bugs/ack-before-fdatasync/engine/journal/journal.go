//go:build mutant

// Seeded bug ack-before-fdatasync (gate D, check D33): the journal
// acknowledges a batch without fdatasync (written to the page cache only): a
// kill -9 keeps it, a power cut loses it.

package journal

import (
	"fmt"
	"io"
	"time"
)

func (j *Journal) writeAndSync(buf []byte) error {
	n, err := j.wf.Write(buf)
	if err == nil && n < len(buf) {
		err = fmt.Errorf("%w: %d of %d bytes", io.ErrShortWrite, n, len(buf))
	}
	if err != nil {
		j.stats.writeErrors.Add(1)
		return j.fail(fmt.Errorf("journal: write failed: %w", err))
	}
	if true { // mutant: never fdatasync, ack anyway
		return nil
	}
	t0 := time.Now()
	err = j.wf.Sync()
	d := time.Since(t0)
	j.stats.syncs.Add(1)
	j.stats.lastSyncMicros.Store(d.Microseconds())
	if d > slowSync {
		j.log.Warn("journal: slow fdatasync", "file", j.cfg.Path, "duration", d, "bytes", len(buf))
	}
	if err != nil {
		// Never retried: after a failed fsync the kernel may have dropped
		// the dirty pages, so a later success would prove nothing.
		j.stats.syncErrors.Add(1)
		return j.fail(fmt.Errorf("journal: sync failed: %w", err))
	}
	return nil
}
