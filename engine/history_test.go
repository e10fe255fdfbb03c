package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

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

// A history page beyond the in-memory ledger window reads the whole
// journal. At most MaxDeepScans such reads run at once (the others are
// refused with ErrBusy at once, never queued), pages inside the window are
// not affected, and CancelScans (shutdown) stops the running ones: they
// used to be unbounded and to outlive the shutdown drain.
func TestDeepHistoryScansAreBoundedAndCancelledAtShutdown(t *testing.T) {
	cfg := testConfig(t, journalPath(t))
	cfg.Projection.LedgerKeep = 2
	e := openEngine(t, cfg)
	defer e.Close()
	mustCreate(t, e, "a", 0.5)
	for i := range 4 {
		if _, err := e.Consume(context.Background(), as("op", ""), engine.CreditInput{AgentID: "a", AmountMilli: credits(1), Reason: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _, err := e.HistoryPage("a", 3, 10); err != nil || len(entries) != 2 {
		t.Fatalf("deep page before: %d entries, %v; want 2", len(entries), err)
	}

	var entered atomic.Int32
	proceed := make(chan struct{})
	engine.SetScanHook(e, func() {
		entered.Add(1)
		<-proceed
	})
	const readers = 8
	errs := make(chan error, readers)
	for range readers {
		go func() {
			_, _, err := e.HistoryPage("a", 3, 10)
			errs <- err
		}()
	}
	for i := range readers - engine.MaxDeepScans {
		if err := <-errs; !errors.Is(err, engine.ErrBusy) {
			t.Fatalf("reader %d beyond the bound: %v, want ErrBusy", i, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for entered.Load() < engine.MaxDeepScans {
		if time.Now().After(deadline) {
			t.Fatalf("%d scans started, want %d", entered.Load(), engine.MaxDeepScans)
		}
		time.Sleep(time.Millisecond)
	}
	if n := entered.Load(); n != engine.MaxDeepScans {
		t.Fatalf("%d scans run at once, want at most %d", n, engine.MaxDeepScans)
	}
	if entries, _, err := e.HistoryPage("a", 0, 2); err != nil || len(entries) != 2 {
		t.Fatalf("a page inside the window while scans run: %d entries, %v", len(entries), err)
	}

	e.CancelScans()
	close(proceed)
	for range engine.MaxDeepScans {
		if err := <-errs; !errors.Is(err, engine.ErrClosed) {
			t.Fatalf("a scan running at shutdown: %v, want ErrClosed", err)
		}
	}
	if _, _, err := e.HistoryPage("a", 3, 10); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("a deep page after shutdown began: %v, want ErrClosed", err)
	}
}
