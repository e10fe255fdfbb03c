// Command karma-stub serves the controllable fake KARMA (chaos/karmastub)
// for docker compose and the harness. Flags have environment equivalents;
// a flag given on the command line wins. It builds with CGO_ENABLED=0 for a
// FROM scratch image.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/creditgate/creditgate/chaos/karmastub"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(os.Args[1:], log); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		log.Error("karma stub failed", "err", err)
		os.Exit(1)
	}
}

func run(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("karma-stub", flag.ContinueOnError)
	addr := fs.String("addr", envOr("KARMA_STUB_ADDR", "127.0.0.1:8001"), "listen address (env KARMA_STUB_ADDR)")
	seed := fs.Int64("seed", envInt("KARMA_STUB_SEED", 42), "seed of the per-agent scores (env KARMA_STUB_SEED)")
	mode := fs.String("mode", envOr("KARMA_STUB_MODE", string(karmastub.Healthy)), "initial mode: healthy|slow|error|hang|flap|drop (env KARMA_STUB_MODE)")
	delayMs := fs.Int("delay-ms", int(envInt("KARMA_STUB_DELAY_MS", 0)), "slow: delay per answer in ms, 0 = default (env KARMA_STUB_DELAY_MS)")
	status := fs.Int("status", int(envInt("KARMA_STUB_STATUS", 0)), "error/flap: failure status, 0 = 503 (env KARMA_STUB_STATUS)")
	flapMs := fs.Int("flap-period-ms", int(envInt("KARMA_STUB_FLAP_PERIOD_MS", 0)), "flap: phase length in ms, 0 = default (env KARMA_STUB_FLAP_PERIOD_MS)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	stub := karmastub.New(*seed)
	stub.Log = log
	if err := stub.SetMode(karmastub.Mode{Kind: karmastub.Kind(*mode), DelayMs: *delayMs, Status: *status, FlapPeriodMs: *flapMs}); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           stub,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		// No WriteTimeout: hang mode must be able to hold a request; the
		// stub bounds that itself (karmastub.DefaultHangMax).
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("karma stub listening", "addr", ln.Addr().String(), "seed", *seed, "mode", *mode)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("karma stub shutting down")
	stub.Close() // release hung requests so Shutdown does not wait for them
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// envInt returns the integer in key, or def when unset. A malformed value
// exits at once: a stub silently running with the wrong seed would make a
// failing run irreproducible.
func envInt(key string, def int64) int64 {
	v, ok := os.LookupEnv(key)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "karma-stub: %s=%q is not an integer\n", key, v)
		os.Exit(2)
	}
	return n
}
