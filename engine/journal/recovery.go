package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditgate/creditgate/engine/event"
)

// Recovery runs on Open, before the writer starts. Its parts, by file:
//   - report.go: what it tells the caller (RecoveryReport, CorruptionError);
//   - scan.go: the parallel chunk reader;
//   - classify.go: the line classifier (torn tail or mid-file? complete
//     command?), dependents.go: events whose entity's first line was lost;
//   - recovery.go: the orchestrator, and the verdict on each settled line;
//   - repair.go: the I/O that changes files (sidecar, quarantine file,
//     rewrite, truncate), each step synced before the next.
// The line format and the repair protocol are in doc.go.

// recovered is what recovery hands to Open: the report, and the file as it
// is after the repair.
type recovered struct {
	report RecoveryReport
	index  []indexEntry // sparse seq→offset index of the repaired file
	size   int64        // bytes of the repaired file: where appends start
}

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
	rep.Clean = rep.clean()
	out.index, out.size = s.index, keptEnd-s.removed
	return out, nil
}

// repairFile makes the file what recovery kept: without the quarantined
// lines (which also drops a torn tail), or else cut at the torn tail, so the
// next append starts on a clean line.
func repairFile(fsys FS, f File, path string, bad []lineRec, torn bool, keptEnd int64) error {
	if len(bad) > 0 {
		if err := rewriteWithout(fsys, f, path, bad, keptEnd); err != nil {
			return stopped(path, "rewrite the journal without the quarantined lines", err)
		}
	} else if torn {
		if err := truncateSynced(fsys, path, keptEnd); err != nil {
			return stopped(path, "cut the torn tail", err)
		}
	}
	return nil
}

// settle decides a line known not to be part of the torn tail.
func (s *scanner) settle(r *lineRec) error {
	if r.err != nil {
		return s.quarantine(r, r.err.Error(), 0)
	}
	seq := r.env.Seq
	if r.env.TxSize > maxTxSize {
		return s.quarantine(r, fmt.Sprintf("tx size %d exceeds the limit %d", r.env.TxSize, maxTxSize), seq)
	}
	if seq <= s.lastSeq {
		return s.quarantine(r, fmt.Sprintf("seq %d repeats or goes backwards (previous seq %d)", seq, s.lastSeq), seq)
	}
	if seq != s.lastSeq+1 {
		g := Gap{AfterSeq: s.lastSeq, NextSeq: seq}
		reason := fmt.Sprintf("seq gap: %d follows %d (%d events missing)", seq, s.lastSeq, seq-s.lastSeq-1)
		if s.policy == PolicyStrict {
			return &CorruptionError{File: s.path, Line: r.no, Reason: reason}
		}
		s.log.Warn("journal recovery: seq gap", "file", s.path, "line", r.no, "offset", r.off,
			"after_seq", g.AfterSeq, "next_seq", g.NextSeq)
		s.rep.Gaps = append(s.rep.Gaps, g)
	}
	if s.rep.Events%indexEvery == 0 {
		s.index = append(s.index, indexEntry{seq: seq, off: r.off - s.removed})
	}
	if err := s.apply(&r.env); err != nil {
		var dep dependencyError
		if errors.As(err, &dep) && s.policy != PolicyStrict && s.lossSeen() {
			kind, id := dep.MissingDependency()
			s.dependent(r, kind, id)
			s.lastSeq = seq
			s.rep.LastSeq = seq
			return nil
		}
		return fmt.Errorf("journal: replay seq %d (%s line %d): %w", seq, s.path, r.no, err)
	}
	s.lastSeq = seq
	s.rep.Events++
	s.rep.LastSeq = seq
	return nil
}

func (s *scanner) quarantine(r *lineRec, reason string, seq uint64) error {
	if s.policy == PolicyStrict {
		return &CorruptionError{File: s.path, Line: r.no, Reason: reason}
	}
	// Never silent: every quarantined line is logged and in the report.
	s.log.Warn("journal recovery: quarantining corrupt line", "file", s.path, "line", r.no,
		"offset", r.off, "reason", reason)
	s.rep.Quarantined = append(s.rep.Quarantined, BadLine{Line: r.no, Offset: r.off, Reason: reason, Seq: seq})
	s.bad = append(s.bad, lineRec{off: r.off, no: r.no, raw: bytes.Clone(r.raw), why: reason})
	s.removed += int64(len(r.raw))
	return nil
}
