//go:build mutant

// Seeded bug h6-torn-cut-durable-offset (blind hunt 6): after recovery cuts a torn tail (SPEC §3:
// the torn tail is cut off, kept in the sidecar, and appends continue on a clean line), the journal's
// durable offset - where the writer's offsets start and how far Iterate may read - is taken from the
// scanned size, not from the cut size. Every seq->offset index entry written after that restart then
// points the torn tail's length past its line, so reading the journal from such a point fails: GET
// /api/credits/events?after_seq=N answers 500 (or a longer export silently stops at its first chunk
// boundary beyond that point) once N reaches the first 1024-event index point written after the
// restart, and a retry whose idempotency key is only on the on-disk key index (re-read from the
// journal) fails too. /metrics journal.stats.durable_offset exceeds the file size, and a read may see
// lines of a batch not yet fsynced. Nothing shows before the restart, nor after a restart without a
// torn tail.
package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditgate/creditgate/engine/event"
)

// recoverJournal replays cfg.Path through apply and repairs the file as the
// report says. On an error the report holds what was found up to then.
func recoverJournal(cfg Config, apply func(*event.Envelope) error) (recovered, error) {
	// Empty, not nil: the report is served as JSON and [] reads better than null.
	out := recovered{report: RecoveryReport{Path: cfg.Path, Policy: cfg.Recovery, Quarantined: []BadLine{},
		Gaps: []Gap{}, Dependents: []Dependent{}, Lost: []LostEntity{}}}
	rep := &out.report
	fsys, dir := cfg.FS, filepath.Dir(cfg.Path)
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return out, fmt.Errorf("journal: create dir %s: %w", dir, err)
	}
	f, err := fsys.OpenFile(cfg.Path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		if err := createFile(fsys, cfg.Path); err != nil {
			return out, err
		}
		rep.Clean = true
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("journal: open %s: %w", cfg.Path, err)
	}
	defer f.Close()

	quarFile := cfg.Path + ".quarantine"
	prior, priorRaw, err := readQuarantine(fsys, quarFile)
	if err != nil {
		return out, err
	}
	s := &scanner{path: cfg.Path, policy: cfg.Recovery, log: cfg.Logger, apply: apply, rep: rep,
		prior: prior, quarFile: quarFile, recorded: recordedDependents(prior)}
	if err := s.scan(f); err != nil {
		return out, err
	}
	rep.TornTail = s.tornTail()
	keptEnd := s.size
	if t := rep.TornTail; t != nil {
		keptEnd = t.Offset
		t.Sidecar = sidecarName(fsys, cfg.Path+".torn-"+cfg.Now().UTC().Format("20060102T150405Z"))
		cfg.Logger.Warn("journal recovery: cutting torn tail", "file", cfg.Path, "offset", t.Offset,
			"bytes", t.Bytes, "lines", t.Lines, "reason", t.Reason, "sidecar", t.Sidecar)
		// The cut bytes are kept durably before the file loses them.
		if err := writeAtomic(fsys, t.Sidecar, tornBytes(s.held)); err != nil {
			return out, stopped(cfg.Path, "keep the torn tail in "+t.Sidecar, err)
		}
	}
	if len(s.bad) > 0 || len(s.deps) > 0 || len(rep.Lost) > 0 {
		rep.QuarantineFile = quarFile
		entries := quarantineEntries(s)
		if len(entries) > 0 {
			if err := writeAtomic(fsys, quarFile, append(priorRaw, entries...)); err != nil {
				return out, stopped(cfg.Path, "write the quarantine file "+quarFile, err)
			}
		}
	}
	if err := repairFile(fsys, f, cfg.Path, s.bad, rep.TornTail != nil, keptEnd); err != nil {
		return out, err
	}
	if rep.TornTail != nil || len(s.bad) > 0 {
		if err := fsys.SyncDir(dir); err != nil {
			return out, fmt.Errorf("journal: sync dir %s: %w", dir, err)
		}
	}
	rep.Clean = rep.TornTail == nil && len(rep.Quarantined) == 0 && len(rep.Gaps) == 0 && len(rep.Dependents) == 0
	out.index, out.size = s.index, s.size-s.removed
	return out, nil
}
