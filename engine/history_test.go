package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/creditgate/creditgate/engine"
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
