// Command creditd is the credit engine server: it maps flags and CREDITD_*
// environment variables to engine and HTTP configuration, opens the event
// store (the JSONL journal, or pgstore for a postgres:// CREDITD_STORE),
// refuses to listen beyond loopback without authentication (listen.go),
// serves the API, and drains gracefully on SIGTERM. With -healthcheck it
// only probes a running server's /api/health (the image's HEALTHCHECK).
// Business rules live in the engine, never here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/creditgate/creditgate/engine"
	"github.com/creditgate/creditgate/engine/httpapi"
	"github.com/creditgate/creditgate/engine/journal"
	"github.com/creditgate/creditgate/engine/karma"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/pgstore"
)

var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "creditd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("creditd", flag.ContinueOnError)
	d := engine.DefaultConfig()
	set := newSettings(fs)
	addr := fs.String("addr", env("CREDITD_ADDR", "127.0.0.1:8000"), "listen address (CREDITD_ADDR)")
	// Secrets are never printed: usage shows "set" for them, logs redact
	// passwords in URLs.
	storeURL := set.Secret("store", "CREDITD_STORE", "event store: empty = the JSONL journal; postgres://… = a PostgreSQL store shared by several instances")
	path := fs.String("journal", env("CREDITD_JOURNAL", "storage/events/credits.jsonl"), "journal file (CREDITD_JOURNAL)")
	fsync := set.Bool("fsync", "CREDITD_FSYNC", true, "fdatasync every group commit; false only for throwaway runs")
	recovery := set.Choice("recovery", "CREDITD_RECOVERY", string(journal.PolicyQuarantine),
		[]string{string(journal.PolicyQuarantine), string(journal.PolicyStrict)}, "mid-file corruption policy: quarantine|strict")
	tokens := set.Secret("tokens", "CREDITD_TOKENS", "bearer tokens token=principal:role,... ; empty = dev mode without auth")
	karmaURL := set.URL("karma-url", "CREDITD_KARMA_URL", "KARMA scoring service base URL; empty = disabled, fallback CI 0.5")
	karmaTimeout := set.Duration("karma-timeout", "CREDITD_KARMA_TIMEOUT", karma.DefaultTimeout, time.Millisecond, karma.MaxTimeout, "KARMA request timeout")
	threshold := set.Credits("approval-threshold", "CREDITD_APPROVAL_THRESHOLD", d.Approval.ThresholdMilli, "credits at or above which add/withdraw need approval")
	high := set.Credits("approval-high", "CREDITD_APPROVAL_HIGH", d.Approval.HighFromMilli, "credits from which a request is HIGH risk")
	critical := set.Credits("approval-critical", "CREDITD_APPROVAL_CRITICAL", d.Approval.CriticalFromMilli, "credits from which a request is CRITICAL")
	const maxTimeout = 365 * 24 * time.Hour
	tMedium := set.Duration("approval-timeout-medium", "CREDITD_APPROVAL_TIMEOUT_MEDIUM", d.Approval.MediumTimeout, time.Second, maxTimeout, "MEDIUM request timeout")
	tHigh := set.Duration("approval-timeout-high", "CREDITD_APPROVAL_TIMEOUT_HIGH", d.Approval.HighTimeout, time.Second, maxTimeout, "HIGH request timeout")
	tCritical := set.Duration("approval-timeout-critical", "CREDITD_APPROVAL_TIMEOUT_CRITICAL", d.Approval.CriticalTimeout, time.Second, maxTimeout, "CRITICAL request timeout")
	synCap := set.Credits("synergie-cap", "CREDITD_SYNERGIE_CAP", d.Synergie.CapMilli, "credits an agent may earn from synergie per team")
	synBase := set.Credits("synergie-base", "CREDITD_SYNERGIE_BASE", d.Synergie.BaseMilli, "synergie base reward in credits")
	maxAmount := set.Credits("max-amount", "CREDITD_MAX_AMOUNT", d.MaxAmountMilli, "largest amount one request may move, in credits")
	failRefund := set.Fraction("mission-fail-refund", "CREDITD_MISSION_FAIL_REFUND", d.MissionFailRefund, "share of what a failed mission consumed that is refunded (1 = all of it)")
	keyRetention := set.Duration("idempotency-retention", "CREDITD_IDEMPOTENCY_RETENTION", d.IdempotencyRetention, time.Minute, engine.MaxIdempotencyRetention,
		"how long a client idempotency key is honoured (from its first event's time)")
	keyMem := set.Int("idempotency-memory-keys", "CREDITD_IDEMPOTENCY_MEMORY_KEYS", d.IdempotencyMemKeys, 1, engine.MaxIdempotencyMemKeys,
		"retained idempotency keys held in memory; older ones are read from <journal>.keys (or the shared store)")
	decidedKeep := set.Int("approvals-keep", "CREDITD_APPROVALS_KEEP", 200, 1, 1_000_000, "decided approval requests kept in memory in full; older ones are read from the journal")
	ledgerKeep := set.Int("ledger-keep", "CREDITD_LEDGER_KEEP", 200, 1, 100_000, "newest ledger entries per agent kept in memory; older pages are read from the journal")
	maxBatch := set.Int("max-batch", "CREDITD_MAX_BATCH", journal.DefaultMaxBatch, 1, journal.MaxMaxBatch, "events per group commit; 1 = one fsync per event")
	logLevel := set.Choice("log-level", "CREDITD_LOG_LEVEL", "info", []string{"debug", "info", "warn", "error"}, "log level: debug|info|warn|error")
	drain := set.Duration("shutdown-timeout", "CREDITD_SHUTDOWN_TIMEOUT", 10*time.Second, 0, time.Hour, "graceful drain limit on SIGTERM")
	insecureNoAuth := set.Bool("insecure-no-auth", "CREDITD_INSECURE_NO_AUTH", false, "allow a non-loopback listen address without CREDITD_TOKENS: anyone who reaches it can move credits")
	healthcheck := fs.Bool("healthcheck", false, "probe http://<addr>/api/health and exit 0 if healthy (for container HEALTHCHECK)")
	if err := set.err(os.Environ()); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Cross-setting rules, named by variable.
	if *high < *threshold || *critical < *high {
		return fmt.Errorf("configuration: want CREDITD_APPROVAL_THRESHOLD (%s) ≤ CREDITD_APPROVAL_HIGH (%s) ≤ CREDITD_APPROVAL_CRITICAL (%s)",
			money.Format(*threshold), money.Format(*high), money.Format(*critical))
	}
	if *synBase > *synCap {
		return fmt.Errorf("configuration: want CREDITD_SYNERGIE_BASE (%s) ≤ CREDITD_SYNERGIE_CAP (%s)", money.Format(*synBase), money.Format(*synCap))
	}
	if *healthcheck {
		return probe(*addr)
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("CREDITD_LOG_LEVEL: %w", err)
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

	cfg := d
	cfg.Logger = log
	cfg.Journal = journal.Config{Path: *path, NoSync: !*fsync, Recovery: journal.Policy(*recovery), MaxBatch: *maxBatch, Logger: log}
	approvalLevels(&cfg.Approval, *threshold, *high, *critical)
	cfg.Approval.MediumTimeout, cfg.Approval.HighTimeout, cfg.Approval.CriticalTimeout = *tMedium, *tHigh, *tCritical
	cfg.Synergie.CapMilli, cfg.Synergie.BaseMilli = *synCap, *synBase
	cfg.MaxAmountMilli = *maxAmount
	cfg.MissionFailRefund = *failRefund
	cfg.IdempotencyRetention, cfg.IdempotencyMemKeys = *keyRetention, *keyMem
	cfg.Projection.DecidedKeep, cfg.Projection.LedgerKeep = *decidedKeep, *ledgerKeep

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var kc *karma.Client
	if *karmaURL != "" {
		kcfg := karma.DefaultConfig()
		kcfg.URL, kcfg.Timeout = *karmaURL, *karmaTimeout
		kc, err = karma.New(kcfg)
		if err != nil {
			// karma's message quotes the URL: print it redacted.
			return fmt.Errorf("CREDITD_KARMA_URL: %s", strings.ReplaceAll(err.Error(), *karmaURL, redact(*karmaURL)))
		}
		kc.Start(ctx)
		defer kc.Close()
		cfg.Scorer = kc
	}

	if *storeURL != "" {
		if !strings.HasPrefix(*storeURL, "postgres://") && !strings.HasPrefix(*storeURL, "postgresql://") {
			return fmt.Errorf("CREDITD_STORE: want a postgres:// URL, got %q", redact(*storeURL))
		}
		octx, ocancel := context.WithTimeout(ctx, 30*time.Second)
		st, err := pgstore.Open(octx, *storeURL, pgstore.Options{})
		ocancel()
		if err != nil {
			return fmt.Errorf("event store: %w", err)
		}
		cfg.Store = st
		*path = "postgres:" + redact(*storeURL)
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
		"auth", len(toks) > 0, "karma", redact(*karmaURL))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		_ = eng.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	// History pages read from the journal stop now (503): the drain waits
	// for requests, and a deep scan must not hold it.
	eng.CancelScans()
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

// redact drops the passwords from a URL before it is logged or printed:
// the user:pass@ part and query parameters such as password= or
// sslpassword= (libpq and pgx read both).
func redact(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		changed := false
		for k := range q {
			if secretParam(k) {
				q[k] = []string{"xxxxx"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	} else if u.RawQuery != "" {
		u.RawQuery = "(unparsable query)"
	}
	return u.Redacted()
}

func secretParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "passwd", "secret", "token"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// approvalLevels maps the approval amount flags: the approval threshold is
// also where MEDIUM risk starts.
func approvalLevels(a *engine.ApprovalConfig, threshold, high, critical int64) {
	a.ThresholdMilli = threshold
	a.MediumFromMilli = threshold
	a.HighFromMilli = high
	a.CriticalFromMilli = critical
}
