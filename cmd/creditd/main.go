// Command creditd is the credit engine server: it maps flags and CREDITD_*
// environment variables to engine and HTTP configuration, serves the API,
// and drains gracefully on SIGTERM. It does nothing else.
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

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/httpapi"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/karma"
	"github.com/creditgate/creditgate/engine/money"
)

var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "creditd:", err)
		os.Exit(1)
	}
}

// env returns the environment value or the default, for flag defaults.
func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envBool(key string, def bool) bool {
	v, err := strconv.ParseBool(env(key, strconv.FormatBool(def)))
	if err != nil {
		return def
	}
	return v
}

func envDur(key string, def time.Duration) time.Duration {
	v, err := time.ParseDuration(env(key, def.String()))
	if err != nil {
		return def
	}
	return v
}

func envInt(key string, def int) int {
	v, err := strconv.Atoi(env(key, strconv.Itoa(def)))
	if err != nil {
		return def
	}
	return v
}

func run(args []string) error {
	fs := flag.NewFlagSet("creditd", flag.ContinueOnError)
	d := engine.DefaultConfig()
	addr := fs.String("addr", env("CREDITD_ADDR", "127.0.0.1:8000"), "listen address (CREDITD_ADDR)")
	path := fs.String("journal", env("CREDITD_JOURNAL", "storage/events/credits.jsonl"), "journal file (CREDITD_JOURNAL)")
	fsync := fs.Bool("fsync", envBool("CREDITD_FSYNC", true), "fdatasync every group commit; false only for throwaway runs (CREDITD_FSYNC)")
	recovery := fs.String("recovery", env("CREDITD_RECOVERY", "quarantine"), "mid-file corruption policy: quarantine|strict (CREDITD_RECOVERY)")
	tokens := fs.String("tokens", env("CREDITD_TOKENS", ""), "bearer tokens token=principal:role,... ; empty = dev mode without auth (CREDITD_TOKENS)")
	karmaURL := fs.String("karma-url", env("CREDITD_KARMA_URL", ""), "KARMA scoring service base URL; empty = disabled, fallback CI 0.5 (CREDITD_KARMA_URL)")
	karmaTimeout := fs.Duration("karma-timeout", envDur("CREDITD_KARMA_TIMEOUT", 100*time.Millisecond), "KARMA request timeout (CREDITD_KARMA_TIMEOUT)")
	threshold := fs.Float64("approval-threshold", float64(envInt("CREDITD_APPROVAL_THRESHOLD", 500)), "credits at or above which add/withdraw need approval (CREDITD_APPROVAL_THRESHOLD)")
	high := fs.Float64("approval-high", float64(envInt("CREDITD_APPROVAL_HIGH", 5000)), "credits from which a request is HIGH risk (CREDITD_APPROVAL_HIGH)")
	critical := fs.Float64("approval-critical", float64(envInt("CREDITD_APPROVAL_CRITICAL", 50000)), "credits from which a request is CRITICAL (CREDITD_APPROVAL_CRITICAL)")
	tMedium := fs.Duration("approval-timeout-medium", envDur("CREDITD_APPROVAL_TIMEOUT_MEDIUM", d.Approval.MediumTimeout), "MEDIUM request timeout (CREDITD_APPROVAL_TIMEOUT_MEDIUM)")
	tHigh := fs.Duration("approval-timeout-high", envDur("CREDITD_APPROVAL_TIMEOUT_HIGH", d.Approval.HighTimeout), "HIGH request timeout (CREDITD_APPROVAL_TIMEOUT_HIGH)")
	tCritical := fs.Duration("approval-timeout-critical", envDur("CREDITD_APPROVAL_TIMEOUT_CRITICAL", d.Approval.CriticalTimeout), "CRITICAL request timeout (CREDITD_APPROVAL_TIMEOUT_CRITICAL)")
	synCap := fs.Float64("synergie-cap", float64(envInt("CREDITD_SYNERGIE_CAP", 500)), "credits an agent may earn from synergie per team (CREDITD_SYNERGIE_CAP)")
	synBase := fs.Float64("synergie-base", float64(envInt("CREDITD_SYNERGIE_BASE", 50)), "synergie base reward in credits (CREDITD_SYNERGIE_BASE)")
	keyWindow := fs.Int("idempotency-window", envInt("CREDITD_IDEMPOTENCY_WINDOW", d.IdempotencyWindow), "client idempotency keys remembered (newest) (CREDITD_IDEMPOTENCY_WINDOW)")
	decidedKeep := fs.Int("approvals-keep", envInt("CREDITD_APPROVALS_KEEP", 200), "decided approval requests kept in memory in full; older ones are read from the journal (CREDITD_APPROVALS_KEEP)")
	ledgerKeep := fs.Int("ledger-keep", envInt("CREDITD_LEDGER_KEEP", 200), "newest ledger entries per agent kept in memory; older pages are read from the journal (CREDITD_LEDGER_KEEP)")
	maxBatch := fs.Int("max-batch", envInt("CREDITD_MAX_BATCH", 512), "events per group commit; 1 = one fsync per event (CREDITD_MAX_BATCH)")
	logLevel := fs.String("log-level", env("CREDITD_LOG_LEVEL", "info"), "debug|info|warn|error (CREDITD_LOG_LEVEL)")
	drain := fs.Duration("shutdown-timeout", envDur("CREDITD_SHUTDOWN_TIMEOUT", 10*time.Second), "graceful drain limit on SIGTERM (CREDITD_SHUTDOWN_TIMEOUT)")
	insecureNoAuth := fs.Bool("insecure-no-auth", envBool("CREDITD_INSECURE_NO_AUTH", false), "allow a non-loopback listen address without CREDITD_TOKENS: anyone who reaches it can move credits (CREDITD_INSECURE_NO_AUTH)")
	healthcheck := fs.Bool("healthcheck", false, "probe http://<addr>/api/health and exit 0 if healthy (for container HEALTHCHECK)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *healthcheck {
		return probe(*addr)
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	slog.SetDefault(log)

	toks, err := httpapi.ParseTokens(*tokens)
	if err != nil {
		return fmt.Errorf("CREDITD_TOKENS: %w", err)
	}
	if err := checkExposure(*addr, len(toks) > 0, *insecureNoAuth); err != nil {
		return err
	}
	if len(toks) == 0 && !loopbackAddr(*addr) {
		log.Warn("INSECURE: --insecure-no-auth lets every caller on the network move credits without a token", "addr", *addr)
	}
	if len(toks) == 0 {
		log.Warn("NO AUTH: CREDITD_TOKENS is empty, so every caller is trusted and identities come from request bodies; use only on loopback for development")
	}
	if !*fsync {
		log.Warn("FSYNC DISABLED: acknowledged writes can be lost on a crash; use only for throwaway runs")
	}
	if *recovery != string(journal.PolicyQuarantine) && *recovery != string(journal.PolicyStrict) {
		return fmt.Errorf("recovery policy %q: want quarantine or strict", *recovery)
	}

	cfg := d
	cfg.Logger = log
	cfg.Journal = journal.Config{Path: *path, NoSync: !*fsync, Recovery: journal.Policy(*recovery), MaxBatch: *maxBatch, Logger: log}
	cfg.Approval.ThresholdMilli = credits(*threshold)
	cfg.Approval.MediumFromMilli = credits(*threshold)
	cfg.Approval.HighFromMilli = credits(*high)
	cfg.Approval.CriticalFromMilli = credits(*critical)
	cfg.Approval.MediumTimeout, cfg.Approval.HighTimeout, cfg.Approval.CriticalTimeout = *tMedium, *tHigh, *tCritical
	cfg.Synergie.CapMilli, cfg.Synergie.BaseMilli = credits(*synCap), credits(*synBase)
	cfg.IdempotencyWindow = *keyWindow
	cfg.Projection.DecidedKeep, cfg.Projection.LedgerKeep = *decidedKeep, *ledgerKeep

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var kc *karma.Client
	if *karmaURL != "" {
		kcfg := karma.DefaultConfig()
		kcfg.URL, kcfg.Timeout = *karmaURL, *karmaTimeout
		kc, err = karma.New(kcfg)
		if err != nil {
			return fmt.Errorf("karma: %w", err)
		}
		kc.Start(ctx)
		defer kc.Close()
		cfg.Scorer = kc
	}

	eng, err := engine.Open(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           httpapi.New(eng, httpapi.Options{Tokens: toks, Logger: log, MaxAmountMilli: cfg.MaxAmountMilli, Version: version}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = eng.Close()
		return err
	}
	log.Info("creditd listening", "addr", ln.Addr().String(), "journal", *path, "fsync", *fsync, "recovery", *recovery,
		"auth", len(toks) > 0, "karma", *karmaURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		_ = eng.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	serr := srv.Shutdown(sctx)
	if serr != nil {
		// The drain limit passed (e.g. a client stopped reading an export):
		// cut the remaining connections rather than wait for them.
		_ = srv.Close()
	}
	if cerr := eng.Close(); cerr != nil {
		return fmt.Errorf("closing the journal: %w", cerr)
	}
	if serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("drain: %w", serr)
	}
	log.Info("stopped cleanly")
	return nil
}

func credits(c float64) int64 { return int64(c * float64(money.PerCredit)) }

func probe(addr string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/api/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}
