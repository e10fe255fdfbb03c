package original

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// JournalName is the journal file inside the data directory.
const JournalName = "journal.jsonl"

// maxLineBytes bounds one journal line read at replay.
const maxLineBytes = 1 << 20

// Event types, the original's names.
const (
	typeAllocated = "credit.allocated" // registration (payload.initial) or add
	typeConsumed  = "credit.consumed"
	typeRefunded  = "credit.refunded"
)

// event is one journal line: the original's envelope plus seq. Money fields
// are decimal strings, so a line keeps exactly what was acknowledged.
type event struct {
	Seq            int64    `json:"seq"`
	EventID        string   `json:"event_id"`
	EventType      string   `json:"event_type"`
	Timestamp      string   `json:"timestamp"`
	ActorID        string   `json:"actor_id"`
	CorrelationID  string   `json:"correlation_id"`
	CausationID    *string  `json:"causation_id"`
	SchemaVersion  int      `json:"schema_version"`
	IdempotencyKey string   `json:"idempotency_key,omitempty"`
	Payload        payload  `json:"payload"`
	Metadata       metadata `json:"metadata"`
	// CRC is the line's CRC32-C (see seal); empty while encoding.
	CRC string `json:"crc,omitempty"`

	line int // journal line number, at replay
}

type payload struct {
	AgentID      string  `json:"agent_id"`
	Amount       string  `json:"amount"`
	BalanceAfter string  `json:"balance_after"`
	Reason       string  `json:"reason"`
	MissionID    *string `json:"mission_id"`
	// Initial marks a registration: the balance becomes Amount.
	Initial    bool   `json:"initial,omitempty"`
	SkillLevel string `json:"skill_level,omitempty"`
}

type metadata struct {
	// RequestHash identifies the request a keyed event answered, so a retry
	// after a restart is told apart from a conflicting reuse of the key.
	RequestHash string `json:"request_hash,omitempty"`
	Route       string `json:"route"`
	// AnomalyDetected is a consume's verdict, decided when it was written.
	AnomalyDetected *bool `json:"anomaly_detected,omitempty"`
}

// damage is one problem found in the journal at start.
type damage struct {
	Line   int
	Reason string
}

func (d damage) String() string { return fmt.Sprintf("line %d: %s", d.Line, d.Reason) }

// journal is the append side of the file. Write errors are sticky: after
// the first failure every append returns it.
type journal struct {
	path  string
	f     *os.File
	size  int64
	err   error
	fsync bool
	// syncEvery > 1 syncs only every syncEvery-th append (LazyFsync);
	// unsynced counts the appends written since the last sync.
	syncEvery int
	unsynced  int
}

// syncFile makes a journal write durable; tests replace it to see which
// bytes were synced.
var syncFile = (*os.File).Sync

// append writes one line and syncs it before returning (noSync: written
// only, H8RefundNoFsync; a later sync covers it).
func (j *journal) append(ev *event, noSync bool) error {
	if j.err != nil {
		return j.err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("journal: encode: %w", err)
	}
	line := append(seal(body), '\n')
	n, err := j.f.Write(line)
	j.size += int64(n)
	if err == nil && j.fsync && noSync {
		j.unsynced++
	} else if err == nil && j.fsync {
		if j.unsynced++; j.syncEvery <= 1 || j.unsynced >= j.syncEvery {
			err = syncFile(j.f)
			j.unsynced = 0
		}
	}
	if err != nil {
		j.err = fmt.Errorf("journal: write %s: %w", j.path, err)
		return j.err
	}
	return nil
}

// replayResult is what reading the journal at start found.
type replayResult struct {
	events  []*event
	damage  []damage
	tornCut int64 // offset the torn tail starts at, -1 for none
	tornRaw []byte
	size    int64
}

// readJournal reads every line of path (a missing file is an empty
// journal). Lines that do not parse are damage; the last line without a
// newline is a torn tail. It never changes the file. With dropGap
// (H12GapDropsNext) a line whose seq does not follow the last good one is
// skipped as well as reported.
func readJournal(path string, lenientCRC, dropGap bool) (*replayResult, error) {
	res := &replayResult{tornCut: -1}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	var lastSeq int64
	for no := 1; ; no++ {
		line, err := br.ReadBytes('\n')
		if len(line) > maxLineBytes {
			res.damage = append(res.damage, damage{no, fmt.Sprintf("line longer than %d bytes", maxLineBytes)})
		} else if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				res.tornCut, res.tornRaw = off, line
				res.damage = append(res.damage, damage{no, fmt.Sprintf("torn last line (%d bytes, no newline)", len(line))})
			} else if len(bytes.TrimSpace(line)) == 0 {
				res.damage = append(res.damage, damage{no, "empty line"})
			} else {
				ev, why := decodeEvent(line, lenientCRC)
				switch {
				case why != "":
					res.damage = append(res.damage, damage{no, why})
				case ev.Seq <= lastSeq:
					res.damage = append(res.damage, damage{no, fmt.Sprintf("seq %d repeats or goes back (previous %d)", ev.Seq, lastSeq)})
				default:
					if ev.Seq != lastSeq+1 {
						res.damage = append(res.damage, damage{no, fmt.Sprintf("seq gap: %d follows %d", ev.Seq, lastSeq)})
						if dropGap { // the line out of sequence is the bad one
							lastSeq = ev.Seq
							break
						}
					}
					lastSeq, ev.line = ev.Seq, no
					res.events = append(res.events, ev)
				}
			}
		}
		off += int64(len(line))
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("journal: read %s: %w", path, err)
		}
	}
	res.size = off
	return res, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcSuffix is the length of `,"crc":"xxxxxxxx"}`.
const crcSuffix = len(`,"crc":"`) + 8 + 2

// seal appends the checksum as the object's last member: body[:len-1] +
// `,"crc":"%08x"}` with the CRC32-C over body, so a flipped bit is detected
// instead of replayed as other money (the same rule creditd's journal uses).
func seal(body []byte) []byte {
	out := append([]byte(nil), body[:len(body)-1]...)
	return fmt.Appendf(out, `,"crc":"%08x"}`, crc32.Checksum(body, castagnoli))
}

// checkSeal verifies a line (without '\n') sealed by seal.
func checkSeal(line []byte) string {
	n := len(line)
	if n < crcSuffix+2 || !bytes.Equal(line[n-crcSuffix:n-10], []byte(`,"crc":"`)) || line[n-2] != '"' || line[n-1] != '}' {
		return "no checksum"
	}
	want, err := strconv.ParseUint(string(line[n-10:n-2]), 16, 32)
	if err != nil {
		return "no checksum"
	}
	body := append(append([]byte(nil), line[:n-crcSuffix]...), '}')
	if got := crc32.Checksum(body, castagnoli); got != uint32(want) {
		return fmt.Sprintf("checksum mismatch (stored %08x, computed %08x)", want, got)
	}
	return ""
}

// decodeEvent parses one line; a non-empty reason means it is garbage.
func decodeEvent(line []byte, lenientCRC bool) (*event, string) {
	if why := checkSeal(bytes.TrimRight(line, "\n")); why != "" {
		if json.Valid(line) && lenientCRC && strings.HasPrefix(why, "checksum mismatch") {
			// H10CRCWarnOnly: the line parses, so it is only a warning.
			slog.Warn("journal line checksum mismatch; replaying the line since it parses", "reason", why)
		} else if json.Valid(line) {
			return nil, why
		} else {
			return nil, "not a JSON event: " + why
		}
	}
	var ev event
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&ev); err != nil {
		return nil, "not a JSON event: " + err.Error()
	}
	if dec.More() {
		return nil, "more than one JSON value on the line"
	}
	switch {
	case ev.Seq <= 0:
		return nil, "missing seq"
	case ev.EventID == "":
		return nil, "missing event_id"
	case ev.Payload.AgentID == "":
		return nil, "missing payload.agent_id"
	}
	switch ev.EventType {
	case typeAllocated, typeConsumed, typeRefunded:
	default:
		return nil, fmt.Sprintf("unknown event_type %q", ev.EventType)
	}
	return &ev, ""
}

// cutTornTail moves a torn last line to a sidecar file and truncates the
// journal before it, so the next append starts on a clean line.
func cutTornTail(path string, res *replayResult, now time.Time) (string, error) {
	side := path + ".torn-" + strconv.FormatInt(now.UnixNano(), 10)
	if err := os.WriteFile(side, res.tornRaw, 0o644); err != nil {
		return "", fmt.Errorf("journal: keep torn tail: %w", err)
	}
	if err := os.Truncate(path, res.tornCut); err != nil {
		return "", fmt.Errorf("journal: cut torn tail: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	res.size = res.tornCut
	return side, nil
}
