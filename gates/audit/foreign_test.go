package audit

// Reading what another conforming backend writes its own way: the journal's
// checksum rule and answer shapes the SPEC leaves open.

import (
	"bytes"
	"context"
	"fmt"
	"github.com/creditgate/creditgate/scenarios/history"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// sealAs seals a JSON object body another way than ours: member last or
// first, hex after a "crc32c:" prefix, CRC32-C or IEEE.
func sealAs(body, member string, last, ieee bool) string {
	table := castagnoli
	if ieee {
		table = crc32.IEEETable
	}
	sum := fmt.Sprintf(`"%s":"crc32c:%08x"`, member, crc32.Checksum([]byte(body), table))
	if last {
		return body[:len(body)-1] + "," + sum + "}"
	}
	return "{" + sum + "," + body[1:]
}

func lineOf(seq int) string {
	return fmt.Sprintf(`{"seq":%d,"event_id":"e%d","event_type":"credit.allocated","timestamp":"2026-01-01T00:00:00Z","schema_version":1,"payload":{"agent_id":"a","amount_milli":1000}}`, seq, seq)
}

// Another conforming backend's convention (SPEC §3 fixes neither member nor
// encoding) is recognized from its lines, and a flipped bit still fails
// the line that holds it.
func TestAJournalSealedByAnotherConventionIsVerifiedByIt(t *testing.T) {
	for _, c := range []struct {
		member     string
		last, ieee bool
	}{{"checksum", true, false}, {"checksum", false, false}, {"crc32", true, true}, {"hash", false, true}} {
		var b strings.Builder
		for seq := 1; seq <= 5; seq++ {
			b.WriteString(sealAs(lineOf(seq), c.member, c.last, c.ieee) + "\n")
		}
		raw := []byte(b.String())
		lines := bytes.SplitAfter(raw, []byte("\n"))
		lines[2] = bytes.Replace(lines[2], []byte(`"amount_milli":1000`), []byte(`"amount_milli":9000`), 1)
		j, err := ReadJournal(bytes.NewReader(bytes.Join(lines, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if j.Checksum == nil || j.Checksum.Member != c.member {
			t.Errorf("%+v: rule %v not recognized", c, j.Checksum)
			continue
		}
		if n := len(j.Events()); n != 4 {
			t.Errorf("%+v: %d valid events, want 4 (line 3 damaged)", c, n)
		}
		if f := CheckLines(j); f.OK || f.Samples != 5 {
			t.Errorf("%+v: A1 %v", c, f)
		}
	}
}

// A journal whose lines carry no checksum the harness recognizes is read,
// but A1 is not measured rather than passed, and every line counts as
// parsed (acknowledged writes are not called lost).
func TestAJournalWithNoRecognizedChecksumIsReadUnverified(t *testing.T) {
	var b strings.Builder
	for seq := 1; seq <= 3; seq++ {
		b.WriteString(strings.TrimSuffix(lineOf(seq), "}") + `,"sig":"zz"}` + "\n")
	}
	j, err := ReadJournal(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if j.Checksum != nil || len(j.Events()) != 3 {
		t.Fatalf("rule %v, %d events", j.Checksum, len(j.Events()))
	}
	if f := CheckLines(j); !f.OK || f.Samples != 0 || !strings.Contains(f.Measured, "no checksum verified") {
		t.Errorf("A1 on an unverifiable journal: %v", f)
	}
}

// Our own journals keep our rule, also when their first line is damaged.
func TestOurJournalIsVerifiedByOurRule(t *testing.T) {
	var b strings.Builder
	for seq := 1; seq <= 4; seq++ {
		l := string(Seal([]byte(lineOf(seq))))
		if seq == 1 {
			l = strings.Replace(l, "1000", "1001", 1)
		}
		b.WriteString(l + "\n")
	}
	j, _ := ReadJournal(strings.NewReader(b.String()))
	if j.Checksum != OurChecksum || len(j.Events()) != 3 {
		t.Errorf("rule %v, %d events, want ours and 3", j.Checksum, len(j.Events()))
	}
}

// GET /synergie/{id} is read in either shape a backend may choose (SPEC §6
// says only "an agent's rewards, capped part"); an unknown one leaves the
// comparison not measured instead of failing the whole state read.
func TestSynergieTotalsAreReadInEitherShapeAndAnUnknownOneIsNotMeasured(t *testing.T) {
	for body, want := range map[string]string{
		`{"teams":[{"team_id":"t","granted":12.5,"capped":1}]}`:     "ok",
		`{"teams":{"t":{"granted":12.5,"capped":1,"rewards":3}}}`:   "ok",
		`{"teams":{"t":{"paid":12.5}}}`:                             "unknown",
		`{"rewards":[{"team":"t","amount":12.5}],"total_capped":0}`: "unknown",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/balances"):
				fmt.Fprint(w, `{"balances":{"a":1},"total_agents":1}`)
			case strings.Contains(r.URL.Path, "/history/"):
				fmt.Fprint(w, `{"agent_id":"a","history":[],"total_entries":0}`)
			case strings.Contains(r.URL.Path, "/synergie/"):
				fmt.Fprint(w, body)
			default:
				fmt.Fprint(w, `{"approvals":[],"total":0}`)
			}
		}))
		st, err := (&APIClient{BaseURL: srv.URL}).FetchState(context.Background(), nil, nil)
		srv.Close()
		if err != nil {
			t.Errorf("%s: the state read failed: %v", body, err)
			continue
		}
		f := compareSynergieOf(NewModel(), st)
		switch want {
		case "ok":
			if got := st.Synergie["a"]["t"]; got.GrantedMilli != 12_500 || got.CappedMilli != 1_000 {
				t.Errorf("%s: read %+v", body, got)
			}
		default:
			if st.SynergieUnread == "" || f.Samples != 0 || !f.OK {
				t.Errorf("%s: unknown shape not reported as not measured: %q %v", body, st.SynergieUnread, f)
			}
		}
	}
}

// foreignEvents is a journal written without our tx marks: a command of two
// events whose second carries "<key>~1", and a system command under the
// backend's own server key.
func foreignEvents(extraKey string) *Journal {
	ev := func(seq uint64, typ, key, corr, actor string) Line {
		e := &Event{Seq: seq, EventID: eid(seq), EventType: typ, IdempotencyKey: key, CorrelationID: corr, ActorID: actor,
			SchemaVersion: 1, Timestamp: "2026-01-01T00:00:00Z"}
		return Line{No: int(seq), Terminated: true, Event: e}
	}
	j := &Journal{Lines: []Line{
		ev(1, "agent.registered", "k1", "c1", "op"),
		ev(2, "credit.allocated", "k1~1", "c1", "op"),
		ev(3, "approval.expired", "srv~9f", "c2", "system:expiry"),
	}}
	if extraKey != "" {
		j.Lines = append(j.Lines, ev(4, "credit.consumed", extraKey, "c3", "op"))
	}
	return j
}

// A journal that groups a command's events by its own key convention
// ("<key>~1") and keys its system commands its own way is judged by what
// it means: one acknowledged command, one system command, nothing
// unrequested — while a command under a key no client sent still fails.
func TestHistoryReadsAnotherBackendsDerivedAndServerKeys(t *testing.T) {
	ops := []Op{{ID: 1, Kind: history.KindCreateAgent, Key: "k1", Status: 200, Outcome: history.OK, EventID: "e1"}}
	if f := CheckHistoryExact(foreignEvents(""), ops, HistoryOptions{}); !f.OK {
		t.Errorf("a conforming journal failed: %s", f)
	}
	if f := CheckHistoryExact(foreignEvents("zz9"), ops, HistoryOptions{}); f.OK {
		t.Errorf("a command under a key no client sent passed: %s", f)
	}
}

// The approval audit is read under our member or the first list of
// requests, with ids from decision_event_ids or each decision's event_id;
// an answer with no list of requests is unknown, never an empty audit.
func TestAuditEntriesAreReadInEitherShape(t *testing.T) {
	ours := map[string]any{"audit": []any{map[string]any{"request_id": "r1", "decision_event_ids": []any{"d1", "d2"}}}}
	theirs := map[string]any{"count": 1.0, "entries": []any{map[string]any{"request_id": "r1",
		"decisions": []any{map[string]any{"event_id": "d1"}, map[string]any{"event_id": "d2"}}}}}
	for name, body := range map[string]map[string]any{"ours": ours, "theirs": theirs} {
		got, ok := AuditEntriesOf(body)
		if !ok || len(got) != 1 || got[0].RequestID != "r1" || strings.Join(got[0].DecisionEventIDs, ",") != "d1,d2" {
			t.Errorf("%s: %v %v", name, got, ok)
		}
	}
	if got, ok := AuditEntriesOf(map[string]any{"entries": []any{}}); !ok || len(got) != 0 {
		t.Errorf("an empty audit: %v %v", got, ok)
	}
	if _, ok := AuditEntriesOf(map[string]any{"count": 3.0, "summary": "3 decided"}); ok {
		t.Errorf("an answer without a list of requests was read as an audit")
	}
}

// A view field SPEC §6 leaves to the backend and another backend does not
// serve (a request's decision_event_id) is not compared — and is a
// violation when the backend is our engine, which always serves it.
func TestAnApprovalIdNotServedIsNotComparedUnlessTheBackendIsOurs(t *testing.T) {
	w := cleanWorld(t)
	m := foldTest(w.b.journal())
	api := apiFromModel(m)
	for id, a := range api.Approvals {
		a.Fields &^= FieldDecisionEventID | FieldExecutedEventID
		a.DecisionEventID, a.ExecutedEventID = "", ""
		api.Approvals[id] = a
	}
	if len(api.Approvals) == 0 {
		t.Fatal("the clean world has no approvals")
	}
	if f := CompareApprovals(m, api); !f.OK {
		t.Errorf("another backend's view without the ids failed: %s", f)
	}
	api.AllFields = true
	if f := CompareApprovals(m, api); f.OK {
		t.Errorf("our engine's view without the ids passed: %s", f)
	}
}

// An invalid request the backend accepted moves the digest rightly: A25
// names it, and A26 is not measured rather than failed on it.
func TestTheDigestJudgesOnlyRefusedGrammarCases(t *testing.T) {
	rs := []GrammarResult{{Name: "bad", Status: 422}, {Name: "worse", Status: 200}, {Name: "good", Valid: true, Status: 200}}
	fs := JudgeGrammar(rs, nil, "1 aa", "2 bb")
	if fs[1].OK || !fs[2].OK || fs[2].Samples != 0 {
		t.Errorf("A25 %v; A26 %v", fs[1], fs[2])
	}
	fs = JudgeGrammar(rs[:1], nil, "1 aa", "2 bb")
	if fs[2].OK {
		t.Errorf("a refused request that moved the digest passed A26: %v", fs[2])
	}
}

// Our engine's journal is held to our forms, whatever its lines suggest:
// a derived event under another backend's key convention is a command no
// client sent, and a line without our checksum member is invalid rather
// than a journal whose checksum rule is unknown (A1 not measured).
func TestOurJournalIsHeldToOurFormsNotReadAsAnotherBackends(t *testing.T) {
	ops := []Op{{ID: 1, Kind: history.KindCreateAgent, Key: "k1", Status: 200, Outcome: history.OK, EventID: "e1"}}
	j := foreignEvents("")
	j.Ours = true
	if f := CheckHistoryExact(j, ops, HistoryOptions{}); f.OK {
		t.Errorf("our journal with another backend's derived and server keys passed: %s", f)
	}
	line := `{"seq":1,"event_id":"e1","event_type":"agent.registered","timestamp":"2026-01-01T00:00:00Z","schema_version":1,"idempotency_key":"k1","correlation_id":"c1","actor_id":"op","payload":{}}` + "\n"
	read := func() *Journal {
		j, err := ReadJournal(strings.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	if f := CheckLines(read()); !f.OK || f.Samples != 0 {
		t.Errorf("another backend's journal without a checksum: want A1 not measured, got %s", f)
	}
	ours := read()
	ours.MarkOurs()
	if f := CheckLines(ours); f.OK {
		t.Errorf("our journal without its crc member passed A1: %s", f)
	}
}
