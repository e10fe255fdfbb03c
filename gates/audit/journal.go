package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Event is one journal envelope as this package reads it (see
// docs/events.md). Fields are decoded by this package's own struct, never by
// the engine's codec.
type Event struct {
	Seq            uint64          `json:"seq"`
	EventID        string          `json:"event_id"`
	EventType      string          `json:"event_type"`
	Timestamp      string          `json:"timestamp"`
	ActorID        string          `json:"actor_id"`
	CorrelationID  string          `json:"correlation_id"`
	CausationID    *string         `json:"causation_id"`
	SchemaVersion  int             `json:"schema_version"`
	IdempotencyKey string          `json:"idempotency_key"`
	Tx             int             `json:"tx,omitempty"`
	Payload        json.RawMessage `json:"payload"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	CRC            string          `json:"crc"`
}

// Line is one physical journal line.
type Line struct {
	No  int    // 1-based line number in the source (across pages when fetched)
	Raw []byte // without the trailing '\n'
	// Terminated is false for a last line without '\n' (a torn tail).
	Terminated bool
	// Err is why the line is not a valid event: malformed JSON, missing or
	// wrong checksum, not newline-terminated. Nil for a valid line.
	Err error
	// Event is the decoded envelope when the JSON parsed (also when the
	// checksum failed, for diagnostics); use Journal.Events for trusted ones.
	Event *Event
}

// Valid reports whether the line parsed, passed its checksum and is complete.
func (l Line) Valid() bool { return l.Err == nil && l.Event != nil }

// Journal is a read journal: every line in source order.
type Journal struct {
	Lines []Line
	// Checksum is the rule the lines were verified by, recognized from
	// the journal itself (see ChecksumRule); nil when none was: the lines
	// are then parsed but not verified, and A1 says so.
	Checksum *ChecksumRule
	// AfterSeq is the seq the journal starts after (0 = from the beginning);
	// the seq check expects AfterSeq+1 first.
	AfterSeq uint64
	// Truncated is set when a fetch stopped at a configured bound.
	Truncated bool
	// Ours says the journal is our engine's (the harness knows its
	// target): its forms — tx marks, "<key>#n" derived keys, "srv-"
	// server keys — are then required, never inferred from the lines, so
	// a journal of ours that happens to hold no multi-event command is not
	// judged as loosely as another backend's.
	Ours bool
}

// Errors describing invalid lines.
var (
	ErrNoChecksum = errors.New("audit: line has no trailing \"crc\" member")
	ErrChecksum   = errors.New("audit: checksum mismatch")
	ErrMalformed  = errors.New("audit: malformed JSON")
	ErrTorn       = errors.New("audit: line not newline-terminated (torn)")
	ErrEmptyLine  = errors.New("audit: empty line")
	ErrFetchLimit = errors.New("audit: journal fetch stopped at its bound")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcSuffixLen is len(`,"crc":"xxxxxxxx"}`).
const crcSuffixLen = len(`,"crc":"`) + 8 + 2

// Seal appends the checksum member to a JSON object body (ending in '}'):
// body[:len-1] + `,"crc":"%08x"}` where the CRC32-C is over body. Exported for
// tests and for users building conforming journals.
func Seal(body []byte) []byte {
	sum := crc32.Checksum(body, castagnoli)
	out := make([]byte, 0, len(body)+crcSuffixLen)
	out = append(out, body[:len(body)-1]...)
	return fmt.Appendf(out, `,"crc":"%08x"}`, sum)
}

// VerifyChecksum checks one line (without '\n') against the rule above.
func VerifyChecksum(line []byte) error {
	n := len(line)
	if n < crcSuffixLen+2 || !bytes.Equal(line[n-crcSuffixLen:n-10], []byte(`,"crc":"`)) ||
		line[n-2] != '"' || line[n-1] != '}' {
		return ErrNoChecksum
	}
	hex := line[n-10 : n-2]
	want, err := strconv.ParseUint(string(hex), 16, 32)
	if err != nil || !bytes.Equal(hex, bytes.ToLower(hex)) {
		return ErrNoChecksum
	}
	body := make([]byte, 0, n-crcSuffixLen+1)
	body = append(append(body, line[:n-crcSuffixLen]...), '}')
	if got := crc32.Checksum(body, castagnoli); got != uint32(want) {
		return fmt.Errorf("%w: stored %08x, computed %08x", ErrChecksum, want, got)
	}
	return nil
}

// parseLine builds a Line from raw bytes (without '\n').
func parseLine(no int, raw []byte, terminated bool) Line {
	l := Line{No: no, Raw: raw, Terminated: terminated}
	if len(bytes.TrimSpace(raw)) == 0 {
		l.Err = ErrEmptyLine
		return l
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		l.Err = fmt.Errorf("%w: %v", ErrMalformed, err)
	} else {
		l.Event = &ev
	}
	return l
}

// MarkOurs says the journal is our engine's (see Ours): its lines are
// verified by our checksum rule, whatever the lines themselves suggest, and
// its commands are grouped by our tx marks.
func (j *Journal) MarkOurs() {
	j.Ours, j.Checksum = true, OurChecksum
	j.verify(0)
}

// verify checks lines[from:] against the journal's checksum rule (first
// recognizing it, while it is not yet) and marks a parsed line without a
// trailing newline torn.
func (j *Journal) verify(from int) {
	if j.Checksum == nil {
		if j.Checksum = detectChecksum(j.Lines); j.Checksum != nil {
			from = 0 // lines read before the rule was known
		}
	}
	for i := from; i < len(j.Lines); i++ {
		l := &j.Lines[i]
		if l.Err != nil && !errors.Is(l.Err, ErrTorn) && !errors.Is(l.Err, ErrNoChecksum) && !errors.Is(l.Err, ErrChecksum) {
			continue // empty or malformed
		}
		l.Err = nil
		if j.Checksum != nil {
			l.Err = j.Checksum.Verify(l.Raw)
		}
		if !l.Terminated && l.Err == nil {
			l.Err = ErrTorn
		}
	}
}

// MaxLineBytes bounds one journal line.
const MaxLineBytes = 16 << 20

// ReadJournal reads JSONL from r, keeping every line with its number, its
// error if any, and its decoded envelope. It fails only on read errors or a
// line longer than MaxLineBytes.
func ReadJournal(r io.Reader) (*Journal, error) {
	j := &Journal{}
	if err := j.read(r, 0); err != nil {
		return j, err
	}
	return j, nil
}

// read appends the lines of r to j, numbering them from base+1.
func (j *Journal) read(r io.Reader, base int) error {
	br := bufio.NewReaderSize(r, 64<<10)
	no := base
	first := len(j.Lines)
	for {
		raw, err := br.ReadSlice('\n')
		var buf []byte
		if errors.Is(err, bufio.ErrBufferFull) {
			buf = append(buf, raw...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(buf) > MaxLineBytes {
					return fmt.Errorf("audit: line %d longer than %d bytes", no+1, MaxLineBytes)
				}
				raw, err = br.ReadSlice('\n')
				buf = append(buf, raw...)
			}
		} else {
			buf = append([]byte(nil), raw...)
		}
		if len(buf) > 0 {
			no++
			terminated := buf[len(buf)-1] == '\n'
			if terminated {
				buf = buf[:len(buf)-1]
			}
			j.Lines = append(j.Lines, parseLine(no, buf, terminated))
		}
		if err == io.EOF {
			j.verify(first)
			return nil
		}
		if err != nil {
			return fmt.Errorf("audit: read journal: %w", err)
		}
	}
}

// Events returns the valid events in journal order.
func (j *Journal) Events() []*Event {
	out := make([]*Event, 0, len(j.Lines))
	for _, l := range j.Lines {
		if l.Valid() {
			out = append(out, l.Event)
		}
	}
	return out
}

// FetchOption configures FetchJournal.
type FetchOption func(*fetchConfig)

type fetchConfig struct {
	pageSize  int
	maxPages  int
	maxEvents int
	afterSeq  uint64
}

// WithPageSize sets the events per request (default 10,000).
func WithPageSize(n int) FetchOption { return func(c *fetchConfig) { c.pageSize = n } }

// WithAfterSeq starts after a seq (auditing a suffix).
func WithAfterSeq(seq uint64) FetchOption { return func(c *fetchConfig) { c.afterSeq = seq } }

// FetchJournal pages GET {baseURL}/api/credits/events?after_seq=N&limit=M
// until a page comes back short. It stops with ErrFetchLimit (and the
// partial journal, Truncated set) at the page or event bound. A page whose
// lines carry no readable seq cannot be paged past and ends the fetch with
// an error.
func FetchJournal(ctx context.Context, baseURL, token string, hc *http.Client, opts ...FetchOption) (*Journal, error) {
	cfg := fetchConfig{pageSize: 10_000, maxPages: 10_000, maxEvents: 20_000_000}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.pageSize = min(max(cfg.pageSize, 1), 1_000_000)
	if hc == nil {
		hc = http.DefaultClient
	}
	j := &Journal{AfterSeq: cfg.afterSeq}
	after := cfg.afterSeq
	for page := 0; ; page++ {
		if page >= cfg.maxPages || len(j.Lines) >= cfg.maxEvents {
			j.Truncated = true
			return j, fmt.Errorf("%w: %d pages, %d lines", ErrFetchLimit, page, len(j.Lines))
		}
		u := strings.TrimRight(baseURL, "/") + "/api/credits/events?after_seq=" + strconv.FormatUint(after, 10) +
			"&limit=" + strconv.Itoa(cfg.pageSize)
		body, err := get(ctx, hc, u, token)
		if err != nil {
			return j, err
		}
		before := len(j.Lines)
		if err := j.read(bytes.NewReader(body), before); err != nil {
			return j, err
		}
		got := j.Lines[before:]
		if len(got) == 0 {
			return j, nil
		}
		next := after
		for _, l := range got {
			if l.Event != nil && l.Event.Seq > next {
				next = l.Event.Seq
			}
		}
		if next == after {
			return j, fmt.Errorf("audit: events page after seq %d has no readable seq greater than it", after)
		}
		after = next
		if len(got) < cfg.pageSize {
			return j, nil
		}
	}
}

// maxResponseBytes bounds one HTTP response body.
const maxResponseBytes = 512 << 20

func get(ctx context.Context, hc *http.Client, u, token string) ([]byte, error) {
	if _, err := url.Parse(u); err != nil {
		return nil, fmt.Errorf("audit: bad url %q: %w", u, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("audit: GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("audit: GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("audit: GET %s: status %d: %s", u, resp.StatusCode, truncate(string(body), 200))
	}
	return body, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
