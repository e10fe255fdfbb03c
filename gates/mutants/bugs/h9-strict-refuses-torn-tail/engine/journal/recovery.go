//go:build mutant

// Seeded bug h9-strict-refuses-torn-tail (blind hunt 9, in our engine): under CREDITD_RECOVERY=strict
// a torn tail stops the start like damage in the middle would, instead of being cut into its
// sidecar. Breaks SPEC §3 (a torn tail is an unacknowledged write, cut under every policy; strict
// refuses only corruption in the middle). A client sees: under strict, a crash mid-append leaves
// the engine unable to start.

package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditgate/creditgate/engine/event"
)

// recoverJournal: strict refuses a torn tail too.
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
		if cfg.Recovery == PolicyStrict {
			return out, &CorruptionError{File: cfg.Path, Line: s.held[0].no, Reason: "torn tail: " + t.Reason}
		}
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
	rep.Clean = rep.clean()
	out.index, out.size = s.index, keptEnd-s.removed
	return out, nil
}
