// Command spec-backend serves the second, independent credit backend (chaos/specbackend),
// written from SPEC.md alone so the harness can be judged against a backend it was not
// built with.
//
//	spec-backend -addr 127.0.0.1:PORT -data DIR
//
// The journal is DIR/journal.jsonl. It listens on loopback addresses only.
// Environment: CREDITD_TOKENS (token=principal:role,...; unset = dev mode),
// CREDITD_KARMA_URL, CREDITD_FSYNC (true|false), CREDITD_RECOVERY (quarantine|strict),
// CREDITD_APPROVAL_THRESHOLD (credits), CREDITD_APPROVAL_TIMEOUT (all levels) or
// CREDITD_APPROVAL_TIMEOUT_MEDIUM|HIGH|CRITICAL (Go durations), CREDITD_SYNERGIE_CAP,
// CREDITD_SYNERGIE_BASE (credits), CREDITD_MAX_AMOUNT (credits), CREDITD_LOG_LEVEL.
//
// Deliberate defects (to test whether the harness notices them): -defects NAME,NAME or
// env SPEC_DEFECTS switches on the named bugs of chaos/specbackend/defects.go; "" or
// "none" (the default) switches none on and the backend behaves as documented, "all"
// switches every one on. An unknown name is refused at start with the list of known
// names; `spec-backend -help` lists them too. The active set is logged loudly at start.
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
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/creditgate/creditgate/chaos/specbackend"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "spec-backend:", err)
		os.Exit(1)
	}
}

func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: refusing a non-loopback address (use 127.0.0.1 or [::1])", addr)
	}
	return nil
}

func credits(name string, def float64) (int64, error) {
	v := env(name, "")
	if v == "" {
		return int64(def * specbackend.MilliPerCredit), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive number of credits", name, v)
	}
	return int64(f*specbackend.MilliPerCredit + 0.5), nil
}

// share reads a fraction in (0, 1] as parts per million.
func share(name string, def float64) (int64, error) {
	v := env(name, "")
	if v == "" {
		return int64(def * 1_000_000), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1 {
		return 0, fmt.Errorf("%s=%q: want a share in (0, 1]", name, v)
	}
	return int64(f*1_000_000 + 0.5), nil
}

func duration(name string, def time.Duration) (time.Duration, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive Go duration (e.g. 5s)", name, v)
	}
	return d, nil
}

func run() error {
	addr := flag.String("addr", env("CREDITD_ADDR", "127.0.0.1:8000"), "listen address (loopback only) [CREDITD_ADDR]")
	data := flag.String("data", env("CREDITD_DATA", "data"), "data directory; the journal is DIR/journal.jsonl [CREDITD_DATA]")
	fsync := flag.Bool("fsync", env("CREDITD_FSYNC", "true") != "false", "fdatasync before acknowledging [CREDITD_FSYNC]")
	recovery := flag.String("recovery", env("CREDITD_RECOVERY", "quarantine"), "recovery policy: quarantine|strict [CREDITD_RECOVERY]")
	karmaURL := flag.String("karma-url", env("CREDITD_KARMA_URL", ""), "KARMA service base URL [CREDITD_KARMA_URL]")
	defects := flag.String("defects", env("SPEC_DEFECTS", "none"), "deliberate defects to switch on, comma-separated: none|all|NAME,... (see below) [SPEC_DEFECTS]")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `usage: spec-backend -addr 127.0.0.1:PORT -data DIR

The second, independent credit backend (chaos/specbackend). Journal: DIR/journal.jsonl
(sidecars: .torn-<time>, .quarantine, .keys). Listens on loopback addresses only.

Flags:
`)
		flag.PrintDefaults()
		fmt.Fprint(flag.CommandLine.Output(), `
Environment (besides the flag equivalents in brackets):
  CREDITD_TOKENS                     token=principal:role,... (roles reader, operator, service,
                                     approver, admin); unset = dev mode, principal from the body
  CREDITD_APPROVAL_THRESHOLD         credits; add/withdraw at or above need approval, MEDIUM (500)
  CREDITD_APPROVAL_HIGH              credits; HIGH risk from (5000)
  CREDITD_APPROVAL_CRITICAL          credits; CRITICAL risk from (50000)
  CREDITD_APPROVAL_TIMEOUT           Go duration for every risk level, or per level:
  CREDITD_APPROVAL_TIMEOUT_MEDIUM    (24h)
  CREDITD_APPROVAL_TIMEOUT_HIGH      (48h)
  CREDITD_APPROVAL_TIMEOUT_CRITICAL  (72h)
  CREDITD_SYNERGIE_CAP               credits per agent per team (500)
  CREDITD_SYNERGIE_BASE              base reward in credits (50)
  CREDITD_MAX_AMOUNT                 largest accepted amount in credits (1000000000)
  CREDITD_MISSION_FAIL_REFUND        share in (0, 1] of a failed mission's estimate refunded (1)
  CREDITD_LOG_LEVEL                  debug|info|warn|error (info)

Defects (-defects / SPEC_DEFECTS; deliberate bugs for testing the harness, default none):
`)
		for _, d := range specbackend.AllDefects {
			fmt.Fprintf(flag.CommandLine.Output(), "  %s\n", d)
		}
	}
	flag.Parse()

	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(env("CREDITD_LOG_LEVEL", "info")))
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	if err := loopbackOnly(*addr); err != nil {
		return err
	}
	ds, err := specbackend.ParseDefects(*defects)
	if err != nil {
		return err
	}
	cfg := specbackend.DefaultConfig()
	cfg.Defects = ds
	cfg.Logger = log
	cfg.JournalPath = filepath.Join(*data, "journal.jsonl")
	cfg.NoFsync = !*fsync
	cfg.Recovery = *recovery
	cfg.KarmaURL = *karmaURL
	if cfg.ApprovalThresholdMilli, err = credits("CREDITD_APPROVAL_THRESHOLD", 500); err != nil {
		return err
	}
	cfg.MediumMilli = cfg.ApprovalThresholdMilli // the gating threshold is where MEDIUM starts
	if cfg.HighMilli, err = credits("CREDITD_APPROVAL_HIGH", 5_000); err != nil {
		return err
	}
	if cfg.CriticalMilli, err = credits("CREDITD_APPROVAL_CRITICAL", 50_000); err != nil {
		return err
	}
	if cfg.MissionRefundPPM, err = share("CREDITD_MISSION_FAIL_REFUND", 1); err != nil {
		return err
	}
	if cfg.SynergieCapMilli, err = credits("CREDITD_SYNERGIE_CAP", 500); err != nil {
		return err
	}
	if cfg.SynergieBaseMilli, err = credits("CREDITD_SYNERGIE_BASE", 50); err != nil {
		return err
	}
	if cfg.MaxAmountMilli, err = credits("CREDITD_MAX_AMOUNT", 1_000_000_000); err != nil {
		return err
	}
	all, err := duration("CREDITD_APPROVAL_TIMEOUT", 0)
	if err != nil {
		return err
	}
	for _, t := range []struct {
		name string
		p    *time.Duration
		def  time.Duration
	}{{"CREDITD_APPROVAL_TIMEOUT_MEDIUM", &cfg.TimeoutMedium, 24 * time.Hour}, {"CREDITD_APPROVAL_TIMEOUT_HIGH", &cfg.TimeoutHigh, 48 * time.Hour},
		{"CREDITD_APPROVAL_TIMEOUT_CRITICAL", &cfg.TimeoutCritical, 72 * time.Hour}} {
		d := t.def
		if all > 0 {
			d = all
		}
		if *t.p, err = duration(t.name, d); err != nil {
			return err
		}
	}
	tokens, err := specbackend.ParseTokens(env("CREDITD_TOKENS", ""))
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		log.Warn("DEV MODE: no CREDITD_TOKENS configured; every request is accepted and the principal comes from the body (actor_id / requester_id / approver_id)")
	}
	if len(ds) > 0 {
		log.Warn("DELIBERATE DEFECTS SWITCHED ON: this backend breaks the SPEC on purpose", "defects", ds.String())
	}
	if cfg.NoFsync {
		log.Warn("fsync disabled: acknowledged writes may be lost on a crash (throwaway runs only)")
	}

	eng, err := specbackend.Open(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           specbackend.NewServer(eng, specbackend.ServerConfig{Tokens: tokens, Logger: log}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		eng.Close()
		return err
	}
	log.Info("listening", "addr", ln.Addr().String(), "journal", cfg.JournalPath, "fsync", !cfg.NoFsync, "recovery", cfg.Recovery, "karma_url", cfg.KarmaURL, "defects", ds.String())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		log.Info("shutting down: stop accepting, drain, sync, close")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			eng.Close()
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("drain incomplete", "err", err)
	}
	if err := eng.Close(); err != nil {
		log.Error("journal closed with error", "err", err)
		return err
	}
	log.Info("stopped cleanly")
	return nil
}
