package engine_test

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/karma"
)

// TestKarmaOutageNeverFailsOrStallsAConsume runs the engine against the
// KARMA stub in every failure mode: consumes succeed with the cached or the
// fallback score recorded, stay within the client timeout plus a generous
// margin (the stub's slow and hang modes would take seconds), health is
// degraded during the outage, and live scores return after it.
func TestKarmaOutageNeverFailsOrStallsAConsume(t *testing.T) {
	const timeout = 100 * time.Millisecond
	// Far below the stub's 5s delay and 60s hang, far above a consume on a
	// loaded 2-core box under -race.
	const latencyBudget = timeout + 1500*time.Millisecond
	for _, tc := range []struct {
		name     string
		mode     karmastub.Mode
		stop     bool // close the listener instead of setting a mode
		degrades bool // health must show degraded during the outage
	}{
		{name: "listener closed", stop: true, degrades: true},
		{name: "hang", mode: karmastub.Mode{Kind: karmastub.Hang}, degrades: true},
		{name: "error 503", mode: karmastub.Mode{Kind: karmastub.Error}, degrades: true},
		{name: "slow 5s", mode: karmastub.Mode{Kind: karmastub.Slow, DelayMs: 5000}, degrades: true},
		{name: "drop", mode: karmastub.Mode{Kind: karmastub.Drop}, degrades: true},
		{name: "flap 30ms", mode: karmastub.Mode{Kind: karmastub.Flap, FlapPeriodMs: 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			stub := karmastub.New(42)
			srv := httptest.NewServer(stub)
			addr := srv.Listener.Addr().String()
			defer func() { stub.Close(); srv.Close() }()

			kcfg := karma.DefaultConfig()
			kcfg.URL, kcfg.Timeout = srv.URL, timeout
			kcfg.BreakerCooldown, kcfg.ProbeInterval = 50*time.Millisecond, 10*time.Millisecond
			kc, err := karma.New(kcfg)
			if err != nil {
				t.Fatal(err)
			}
			kctx, cancel := context.WithCancel(ctx)
			defer cancel()
			kc.Start(kctx)
			defer kc.Close()

			cfg := testConfig(t, journalPath(t))
			cfg.Scorer = kc
			e := openEngine(t, cfg)
			defer e.Close()
			mustCreate(t, e, "warm", 1)
			mustCreate(t, e, "cold", 1)
			consume := func(agent string) (string, time.Duration) {
				t.Helper()
				start := time.Now()
				res, err := e.Consume(ctx, as("op", ""), engine.CreditInput{AgentID: agent, AmountMilli: credits(0.1), Reason: "k"})
				d := time.Since(start)
				if err != nil {
					t.Fatalf("consume for %s failed while KARMA is %q: %v", agent, tc.name, err)
				}
				m := res.Primary().Metadata
				if m == nil || m.KarmaSource == "" || m.KarmaScore == nil {
					t.Fatalf("consume has no karma metadata: %+v", m)
				}
				return m.KarmaSource, d
			}
			// Warm the cache; the first call may miss the 100ms timeout on a
			// loaded box while the connection is set up, so poll.
			waitLive := func(agent string) {
				t.Helper()
				deadline := time.Now().Add(20 * time.Second)
				for {
					src, _ := consume(agent)
					if src == string(karma.SourceLive) {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("healthy KARMA, but %s's scores are still %q after 20s; status %+v", agent, src, e.KarmaStatus())
					}
					time.Sleep(20 * time.Millisecond) // poll interval, not an assertion
				}
			}
			waitLive("warm")

			if tc.stop {
				srv.Listener.Close()
				srv.CloseClientConnections()
			} else if err := stub.SetMode(tc.mode); err != nil {
				t.Fatal(err)
			}
			var worst time.Duration
			for i := 0; i < 20; i++ {
				for _, agent := range []string{"warm", "cold"} {
					src, d := consume(agent)
					worst = max(worst, d)
					want := map[string]string{"warm": string(karma.SourceCache), "cold": string(karma.SourceFallback)}[agent]
					if src != want && tc.mode.Kind != karmastub.Flap { // flapping KARMA may answer, so any source is right
						t.Fatalf("outage: %s got karma_source %q, want %q", agent, src, want)
					}
				}
			}
			if worst > latencyBudget {
				t.Fatalf("slowest consume during the outage took %v, budget %v", worst, latencyBudget)
			}
			t.Logf("slowest consume during the outage: %v", worst)
			if tc.degrades {
				if h := e.Health(); h.Status != "degraded" || (h.Karma != karma.StateDegraded && h.Karma != karma.StateDown) {
					t.Fatalf("health during the outage %+v, want degraded", h)
				}
			}

			// Recovery.
			if tc.stop {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Skipf("cannot re-listen on %s to bring KARMA back: %v", addr, err)
				}
				srv2 := httptest.NewUnstartedServer(stub)
				srv2.Listener.Close()
				srv2.Listener = ln
				srv2.Start()
				defer srv2.Close()
			} else if err := stub.SetMode(karmastub.Mode{Kind: karmastub.Healthy}); err != nil {
				t.Fatal(err)
			}
			waitLive("cold")
			if h := e.Health(); h.Status != "healthy" || h.Karma != karma.StateHealthy {
				t.Fatalf("health after recovery %+v, want healthy", h)
			}
		})
	}
}
