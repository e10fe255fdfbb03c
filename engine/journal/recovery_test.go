package journal_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

// corruptor builds the file content from ten encoded lines (seq 1..10).
type corruptor func(tb testing.TB, ls [][]byte) []byte

func join(ls ...[]byte) []byte { return bytes.Join(ls, nil) }

func flipMiddle(l []byte) []byte {
	b := bytes.Clone(l)
	b[len(b)/2] ^= 0x04
	return b
}

// withTx re-encodes lines from seq `first` so that first starts a command of
// n events.
func withTx(tb testing.TB, ls [][]byte, first uint64, n int) [][]byte {
	out := slices.Clone(ls)
	out[first-1] = line(tb, first, n)
	return out
}

type recoveryWant struct {
	kept        []uint64
	tornLines   int    // 0: no torn tail
	tornReason  string // substring
	quarantined []int  // line numbers in the original file
	qReason     string // substring of every quarantine reason
	gaps        []journal.Gap
	// strictLine > 0: strict refuses, naming this line; 0: strict recovers
	// exactly like quarantine (a torn tail is not corruption).
	strictLine   int
	strictReason string
}

func TestRecoveryKeepsAndReportsByCorruption(t *testing.T) {
	all := seqRange(1, 10)
	cases := []struct {
		name    string
		corrupt corruptor
		want    recoveryWant
	}{
		{
			name:    "clean file replays every event",
			corrupt: func(tb testing.TB, ls [][]byte) []byte { return join(ls...) },
			want:    recoveryWant{kept: all},
		},
		{
			name:    "empty file is clean",
			corrupt: func(tb testing.TB, ls [][]byte) []byte { return nil },
			want:    recoveryWant{},
		},
		{
			name: "partial last line is a torn tail kept in the sidecar",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(join(ls[:9]...), ls[9][:len(ls[9])/2])
			},
			want: recoveryWant{kept: seqRange(1, 9), tornLines: 1, tornReason: "no trailing newline"},
		},
		{
			name: "bit flip in the last line is a torn tail, not quarantine",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(join(ls[:9]...), flipMiddle(ls[9]))
			},
			want: recoveryWant{kept: seqRange(1, 9), tornLines: 1, tornReason: "checksum"},
		},
		{
			name: "garbage after the last line is a torn tail",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(join(ls...), []byte("{\"seq\":11,\"ev\n"), []byte("\x00\x00\x00"))
			},
			want: recoveryWant{kept: all, tornLines: 2, tornReason: "fail to decode"},
		},
		{
			name: "trailing command missing its last event is torn whole",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(withTx(tb, ls, 8, 3)[:9]...)
			},
			want: recoveryWant{kept: seqRange(1, 7), tornLines: 2, tornReason: "incomplete command: 2 of 3"},
		},
		{
			name: "trailing command ending in a partial line is torn whole",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				tx := withTx(tb, ls, 8, 3)
				return join(join(tx[:9]...), tx[9][:40])
			},
			want: recoveryWant{kept: seqRange(1, 7), tornLines: 3, tornReason: "incomplete command: 2 of 3"},
		},
		{
			// SPEC §3: a last line failing its checksum is a torn tail,
			// also when it is the last line its command needs.
			name: "trailing command whose last line fails its checksum is torn whole",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				tx := withTx(tb, ls, 8, 3)
				return join(join(tx[:9]...), flipMiddle(tx[9]))
			},
			want: recoveryWant{kept: seqRange(1, 7), tornLines: 3, tornReason: "incomplete command: 2 of 3"},
		},
		{
			name: "a command whose last line fails its checksum, followed by a line, is damage in the middle",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				tx := withTx(tb, ls, 7, 3)
				return join(join(tx[:8]...), flipMiddle(tx[8]), tx[9])
			},
			want: recoveryWant{kept: without(seqRange(1, 10), 9), quarantined: []int{9}, qReason: "checksum",
				gaps: []journal.Gap{{AfterSeq: 8, NextSeq: 10}}, strictLine: 9, strictReason: "checksum"},
		},
		{
			name: "complete trailing command is kept",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(withTx(tb, ls, 8, 3)...)
			},
			want: recoveryWant{kept: all},
		},
		{
			name: "bit flip mid-file is quarantined with its line and reason",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				c := slices.Clone(ls)
				c[4] = flipMiddle(c[4])
				return join(c...)
			},
			want: recoveryWant{kept: without(all, 5), quarantined: []int{5}, qReason: "checksum",
				gaps: []journal.Gap{{AfterSeq: 4, NextSeq: 6}}, strictLine: 5, strictReason: "checksum"},
		},
		{
			// The first line of the file is the first line of whatever it
			// creates; dependents are covered in dependents_test.go.
			name: "bit flip in the first line of the file is quarantined, not taken for a torn tail",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				c := slices.Clone(ls)
				c[0] = flipMiddle(c[0])
				return join(c...)
			},
			want: recoveryWant{kept: seqRange(2, 10), quarantined: []int{1}, qReason: "checksum",
				gaps: []journal.Gap{{AfterSeq: 0, NextSeq: 2}}, strictLine: 1, strictReason: "checksum"},
		},
		{
			name: "garbage line mid-file is quarantined and loses no event",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(join(ls[:4]...), []byte("not json at all\n"), join(ls[4:]...))
			},
			want: recoveryWant{kept: all, quarantined: []int{5}, qReason: "checksum",
				strictLine: 5, strictReason: "checksum"},
		},
		{
			name: "whole lines destroyed mid-file are a gap, not a rewrite",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(join(ls[:4]...), join(ls[7:]...))
			},
			want: recoveryWant{kept: without(all, 5, 6, 7), gaps: []journal.Gap{{AfterSeq: 4, NextSeq: 8}},
				strictLine: 5, strictReason: "seq gap"},
		},
		{
			name: "first lines destroyed are a gap after seq 0",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(ls[2:]...)
			},
			want: recoveryWant{kept: seqRange(3, 10), gaps: []journal.Gap{{AfterSeq: 0, NextSeq: 3}},
				strictLine: 1, strictReason: "seq gap"},
		},
		{
			name: "duplicated line mid-file is quarantined as a repeated seq",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(join(ls[:5]...), join(ls[4:]...))
			},
			want: recoveryWant{kept: all, quarantined: []int{6}, qReason: "seq 5 repeats",
				strictLine: 6, strictReason: "seq 5 repeats"},
		},
		{
			name: "duplicated last line is quarantined, not torn: it verified",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				return join(join(ls...), ls[9])
			},
			want: recoveryWant{kept: all, quarantined: []int{11}, qReason: "seq 10 repeats",
				strictLine: 11, strictReason: "repeats"},
		},
		{
			name: "bad line inside a complete mid-file command keeps the command's valid events",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				c := withTx(tb, ls, 4, 3)
				c[4] = flipMiddle(c[4])
				return join(c...)
			},
			want: recoveryWant{kept: without(all, 5), quarantined: []int{5}, qReason: "checksum",
				gaps: []journal.Gap{{AfterSeq: 4, NextSeq: 6}}, strictLine: 5, strictReason: "checksum"},
		},
		{
			name: "mid-file bit flip and a torn tail are both handled",
			corrupt: func(tb testing.TB, ls [][]byte) []byte {
				c := slices.Clone(ls)
				c[2] = flipMiddle(c[2])
				return join(join(c[:9]...), c[9][:7])
			},
			want: recoveryWant{kept: without(seqRange(1, 9), 3), quarantined: []int{3}, qReason: "checksum",
				gaps: []journal.Gap{{AfterSeq: 2, NextSeq: 4}}, tornLines: 1, tornReason: "no trailing newline",
				strictLine: 3, strictReason: "checksum"},
		},
	}
	for _, tc := range cases {
		for _, policy := range []journal.Policy{journal.PolicyQuarantine, journal.PolicyStrict} {
			t.Run(tc.name+"/"+string(policy), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "credits.jsonl")
				content := tc.corrupt(t, lines(t, 1, 10))
				writeFile(t, path, content)
				cfg := baseConfig(t, path)
				cfg.Recovery = policy
				if policy == journal.PolicyStrict && tc.want.strictLine > 0 {
					assertStrictRefuses(t, cfg, content, tc.want)
					return
				}
				assertRecovers(t, cfg, content, tc.want)
			})
		}
	}
}

func assertStrictRefuses(t *testing.T, cfg journal.Config, content []byte, want recoveryWant) {
	_, _, err := journal.Open(cfg, func(*event.Envelope) error { return nil })
	var ce *journal.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("strict Open err = %v, want *CorruptionError", err)
	}
	if ce.File != cfg.Path || ce.Line != want.strictLine || !strings.Contains(ce.Reason, want.strictReason) {
		t.Fatalf("CorruptionError = %+v, want file %s line %d reason ~%q", ce, cfg.Path, want.strictLine, want.strictReason)
	}
	for _, s := range []string{cfg.Path, ":" + strconv.Itoa(want.strictLine), want.strictReason} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	got, _ := os.ReadFile(cfg.Path)
	if !bytes.Equal(got, content) {
		t.Fatal("strict refusal changed the journal file")
	}
	if entries, _ := os.ReadDir(filepath.Dir(cfg.Path)); len(entries) != 1 {
		t.Fatalf("strict refusal left files behind: %v", entries)
	}
}

func assertRecovers(t *testing.T, cfg journal.Config, content []byte, want recoveryWant) {
	j, rep, applied := open(t, cfg)
	defer j.Close()

	if !slices.Equal(applied, want.kept) {
		t.Errorf("replayed seqs %v, want %v", applied, want.kept)
	}
	if rep.Events != uint64(len(want.kept)) {
		t.Errorf("report Events = %d, want %d", rep.Events, len(want.kept))
	}
	if n := len(want.kept); n > 0 && rep.LastSeq != want.kept[n-1] {
		t.Errorf("report LastSeq = %d, want %d", rep.LastSeq, want.kept[n-1])
	}
	if got := fileSeqs(t, cfg.Path); !slices.Equal(got, want.kept) {
		t.Errorf("file after recovery holds seqs %v, want %v", got, want.kept)
	}
	if !slices.Equal(rep.Gaps, want.gaps) {
		t.Errorf("report Gaps = %v, want %v", rep.Gaps, want.gaps)
	}
	clean := want.tornLines == 0 && len(want.quarantined) == 0 && len(want.gaps) == 0
	if rep.Clean != clean {
		t.Errorf("report Clean = %v, want %v", rep.Clean, clean)
	}

	// Torn tail: reported, cut, and every cut byte kept in the sidecar.
	if want.tornLines == 0 {
		if rep.TornTail != nil {
			t.Errorf("unexpected torn tail %+v", rep.TornTail)
		}
	} else {
		tt := rep.TornTail
		if tt == nil {
			t.Fatal("torn tail not reported")
		}
		if tt.Lines != want.tornLines || !strings.Contains(tt.Reason, want.tornReason) {
			t.Errorf("torn tail = %+v, want %d lines, reason ~%q", tt, want.tornLines, want.tornReason)
		}
		if int(tt.Offset)+tt.Bytes != len(content) {
			t.Errorf("torn tail offset %d + bytes %d != file size %d", tt.Offset, tt.Bytes, len(content))
		}
		if wantName := cfg.Path + ".torn-20261127T010203Z"; tt.Sidecar != wantName {
			t.Errorf("sidecar %q, want %q", tt.Sidecar, wantName)
		}
		side, err := os.ReadFile(tt.Sidecar)
		if err != nil || !bytes.Equal(side, content[tt.Offset:]) {
			t.Errorf("sidecar holds %q (err %v), want the cut bytes %q", side, err, content[tt.Offset:])
		}
	}

	// Quarantine: reported with line and reason, and in the quarantine file.
	var gotLines []int
	for _, b := range rep.Quarantined {
		gotLines = append(gotLines, b.Line)
		if !strings.Contains(b.Reason, want.qReason) {
			t.Errorf("quarantined line %d reason %q, want ~%q", b.Line, b.Reason, want.qReason)
		}
	}
	if !slices.Equal(gotLines, want.quarantined) {
		t.Errorf("quarantined lines %v, want %v", gotLines, want.quarantined)
	}
	if len(want.quarantined) > 0 {
		assertQuarantineFile(t, cfg.Path+".quarantine", content, rep.Quarantined)
	} else if _, err := os.Stat(cfg.Path + ".quarantine"); err == nil {
		t.Error("quarantine file written although nothing was quarantined")
	}
	if want.tornLines == 0 && len(want.quarantined) == 0 {
		if got, _ := os.ReadFile(cfg.Path); !bytes.Equal(got, content) {
			t.Error("file was rewritten although nothing was cut or quarantined")
		}
	}

	// Iterate reads the recovered file through the replay-built index.
	var iterated []uint64
	if err := j.Iterate(0, func(_ []byte, e *event.Envelope) bool { iterated = append(iterated, e.Seq); return true }); err != nil {
		t.Fatalf("Iterate after recovery: %v", err)
	}
	if !slices.Equal(iterated, want.kept) {
		t.Errorf("Iterate after recovery = %v, want %v", iterated, want.kept)
	}

	// Appends continue on a clean line and survive a reopen.
	next := uint64(1)
	if n := len(want.kept); n > 0 {
		next = want.kept[n-1] + 1
	}
	if err := j.Append(context.Background(), [][]byte{line(t, next, 0)}); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, rep2, applied2 := open(t, cfg)
	defer j2.Close()
	wantAfter := append(slices.Clone(want.kept), next)
	if !slices.Equal(applied2, wantAfter) {
		t.Errorf("after append+reopen replayed %v, want %v", applied2, wantAfter)
	}
	if rep2.TornTail != nil || len(rep2.Quarantined) != 0 || !slices.Equal(rep2.Gaps, want.gaps) {
		t.Errorf("second recovery found new problems: %+v", rep2)
	}
}

func assertQuarantineFile(t *testing.T, path string, content []byte, bad []journal.BadLine) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("quarantine file: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i := 0
	for ; sc.Scan(); i++ {
		var e struct {
			Line   int    `json:"line"`
			Offset int64  `json:"offset"`
			Reason string `json:"reason"`
			Raw    string `json:"raw"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("quarantine entry %d is not JSON: %v", i+1, err)
		}
		if i >= len(bad) {
			t.Fatalf("quarantine file has more entries than reported")
		}
		end := bytes.IndexByte(content[e.Offset:], '\n')
		orig := string(content[e.Offset : e.Offset+int64(end)])
		if e.Line != bad[i].Line || e.Offset != bad[i].Offset || e.Reason != bad[i].Reason || e.Raw != strings.ToValidUTF8(orig, "\uFFFD") {
			t.Errorf("quarantine entry %+v does not match report %+v / original line %q", e, bad[i], orig)
		}
	}
	if i != len(bad) {
		t.Errorf("quarantine file has %d entries, report %d", i, len(bad))
	}
}

func TestIterateUsesCorrectOffsetsAfterAQuarantineRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credits.jsonl")
	ls := lines(t, 1, 5000)
	ls[99] = flipMiddle(ls[99])                                             // seq 100 quarantined
	ls = slices.Insert(ls, 2000, []byte("garbage between 2000 and 2001\n")) // no event lost
	writeFile(t, path, bytes.Join(ls, nil))
	cfg := baseConfig(t, path)
	cfg.Logger = quiet()
	j, rep, _ := open(t, cfg)
	defer j.Close()
	if len(rep.Quarantined) != 2 {
		t.Fatalf("quarantined %+v, want 2 lines", rep.Quarantined)
	}
	for _, after := range []uint64{0, 99, 1500, 2000, 3000, 4096} {
		var got []uint64
		if err := j.Iterate(after, func(_ []byte, e *event.Envelope) bool { got = append(got, e.Seq); return true }); err != nil {
			t.Fatalf("Iterate(%d): %v", after, err)
		}
		want := without(seqRange(after+1, 5000), 100)
		if !slices.Equal(got, want) {
			t.Fatalf("Iterate(%d) returned %d events starting %v, want %d", after, len(got), head(got), len(want))
		}
	}
}
