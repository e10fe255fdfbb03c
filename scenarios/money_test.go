package scenarios

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/creditgate/creditgate/scenarios/money"
)

// moneyBackend answers GET /balance/{id} with the literal in balances and
// records the "amount" literal of every POST body as sent on the wire.
func moneyBackend(t *testing.T, balances map[string]string) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var sent []string
	amount := regexp.MustCompile(`"amount":([^,}]*)`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			id := r.URL.Path[len(api+"/balance/"):]
			_, _ = w.Write([]byte(`{"agent_id":"` + id + `","balance":` + balances[id] + `,"seq":9007199254740993}`))
			return
		}
		b, _ := io.ReadAll(r.Body)
		if m := amount.FindSubmatch(b); m != nil {
			mu.Lock()
			sent = append(sent, string(m[1]))
			mu.Unlock()
		}
		_, _ = w.Write([]byte(`{"request_id":"r1","event_id":"e1"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), sent...) }
}

// A balance is read from the literal the backend sent, never through
// float64: 1234567.891 or 999999999999999.999 credits are exact
// milli-credit counts, and 0.1 + 0.2 sent as 0.3 reads back as 300.
func TestBalanceMilliReadsTheAnswerLiteralExactly(t *testing.T) {
	want := map[string]int64{"big": 1_234_567_891, "max": 999_999_999_999_999_999, "sum": 300, "neg": -59_020, "exp": 1_000_000}
	srv, _ := moneyBackend(t, map[string]string{"big": "1234567.891", "max": "999999999999999.999", "sum": "0.3", "neg": "-59.02", "exp": "1e3"})
	c := NewClient(srv.URL, "")
	for id, w := range want {
		got, err := c.BalanceMilli(t.Context(), id)
		if err != nil || got != w {
			t.Errorf("BalanceMilli(%s) = %d, %v; want %d", id, got, err, w)
		}
	}
	// The old path (decode to float64, ×1000, round) gets it wrong: the
	// hazard this test guards.
	var old struct{ Balance float64 }
	_ = json.Unmarshal([]byte(`{"balance":999999999999999.999}`), &old)
	if int64(math.Round(old.Balance*1000)) == want["max"] {
		t.Fatal("float64 path unexpectedly exact: the test no longer shows the hazard")
	}
	// Every number of a Reply.Body is the literal: a seq above 2^53 too.
	r := c.Get(t.Context(), api+"/balance/big")
	if n, ok := r.Body["seq"].(json.Number); !ok || n != "9007199254740993" {
		t.Errorf("seq decoded as %#v, want json.Number 9007199254740993", r.Body["seq"])
	}
}

// An answer with more than 3 decimals is not an exact amount: BalanceMilli
// says so instead of rounding it away.
func TestBalanceMilliRefusesAnInexactAnswer(t *testing.T) {
	srv, _ := moneyBackend(t, map[string]string{"a": "59.019999999999996"})
	if got, err := NewClient(srv.URL, "").BalanceMilli(t.Context(), "a"); err == nil {
		t.Errorf("BalanceMilli accepted 59.019999999999996 as %d", got)
	}
}

// Amounts leave the client as the formatter's exact literal, in the body and
// in the history.
func TestAmountsAreSentAsExactDecimalLiterals(t *testing.T) {
	srv, sent := moneyBackend(t, nil)
	c := NewClient(srv.URL, "")
	ctx := t.Context()
	c.RequestApproval(ctx, "a", "req", 1_234_567_891, "", "k1")
	c.RequestApproval(ctx, "a", "req", 600_500, "", "k2")
	Blackout(ctx, c, "m", "a", 1, 300)
	want := []string{"1234567.891", "600.5", "0.3"}
	got := sent()
	if len(got) != len(want) {
		t.Fatalf("sent amounts %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("amount %d sent as %s, want %s", i, got[i], want[i])
		}
	}
	i := 0
	for _, op := range c.History.Ops() {
		if !op.Kind.Mutation() {
			continue // Blackout also reads health
		}
		if m, _ := money.ParseMilli(want[i]); op.AmountMilli != m {
			t.Errorf("op %d recorded %d milli, want %d", i, op.AmountMilli, m)
		}
		i++
	}
}
