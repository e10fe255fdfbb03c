package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/journal"
)

// total_entries is the agent's number of ledger entries, whatever page is
// asked for: an offset past the end is an empty page, not a larger total.
func TestHistoryTotalIsTheLedgerSizeForAnOffsetPastTheEnd(t *testing.T) {
	e := openEngine(t, testConfig(t, journalPath(t)))
	defer e.Close()
	mustCreate(t, e, "a", 0.5)
	for i := range 3 {
		if _, err := e.Consume(context.Background(), as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, off := range []int{0, 3, 4, 5, 1 << 30} {
		entries, total, err := e.HistoryPage("a", off, 10)
		if err != nil {
			t.Fatal(err)
		}
		if total != 4 {
			t.Errorf("offset %d: total_entries %d, want 4 (the allocation and 3 consumes)", off, total)
		}
		if want := max(0, 4-off); len(entries) != want {
			t.Errorf("offset %d: %d entries, want %d", off, len(entries), want)
		}
	}
}

// An agent whose first event recovery quarantined is refused as
// entity_quarantined by its history too, as by every other route: a 404
// would tell a client it never existed.
func TestHistoryOfAQuarantinedAgentIsRefusedAsQuarantined(t *testing.T) {
	path := journalPath(t)
	lostFirstLineJournal(t, path)
	evs := readJournal(t, path)
	birth := slices.IndexFunc(evs, func(ev event.Envelope) bool {
		k, id := entityOf(ev)
		return ev.EventType == event.AgentRegistered && k == "agent" && id == "gone"
	})
	if birth < 0 {
		t.Fatal("no registration of agent gone")
	}
	raw, _ := os.ReadFile(path)
	ls := bytes.SplitAfter(raw, []byte("\n"))
	ls[birth][len(ls[birth])/2] ^= 0x04
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, path)
	cfg.Journal.Recovery = journal.PolicyQuarantine
	e := openEngine(t, cfg)
	defer e.Close()
	if _, _, err := e.HistoryPage("gone", 0, 10); ruleCode(err) != engine.CodeQuarantined {
		t.Fatalf("history of the quarantined agent = %v, want entity_quarantined", err)
	}
	if _, _, err := e.HistoryPage("never-was", 0, 10); ruleCode(err) != engine.CodeNotFound {
		t.Fatalf("history of an unknown agent = %v, want not_found", err)
	}
}
