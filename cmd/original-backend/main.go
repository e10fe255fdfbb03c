// Command original-backend serves chaos/original: a small credit backend
// with only the original FastAPI service's routes, a JSONL journal in its
// data directory, and defect switches that break one promise each.
//
//	original-backend -addr 127.0.0.1:8000 -data ./data [-defects float-money,...] [-openapi]
//
// ORIGINAL_DEFECTS is read when -defects is not given. It listens on
// loopback only. SIGTERM/SIGINT drain the server and close the journal.
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
	"strings"
	"syscall"
	"time"

	"github.com/creditgate/creditgate/chaos/original"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "original-backend:", err)
		os.Exit(2)
	}
}

func run() error {
	names := make([]string, len(original.AllDefects))
	for i, d := range original.AllDefects {
		names[i] = string(d)
	}
	addr := flag.String("addr", "127.0.0.1:8000", "listen address; loopback only (127.0.0.1, ::1 or localhost)")
	data := flag.String("data", "data", "data directory holding "+original.JournalName)
	defects := flag.String("defects", "", "comma-separated defects to switch on (env ORIGINAL_DEFECTS when unset): "+strings.Join(names, ", "))
	openapi := flag.Bool("openapi", false, "serve GET /openapi.json (as FastAPI would); off so clients must probe")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	if err := loopbackOnly(*addr); err != nil {
		return err
	}
	spec := *defects
	if !flagSet("defects") {
		spec = os.Getenv("ORIGINAL_DEFECTS")
	}
	d, err := original.ParseDefects(spec)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := original.Open(original.Config{DataDir: *data, Defects: d, OpenAPI: *openapi, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10}
	log.Info("listening", "addr", ln.Addr().String(), "data", *data, "defects", d.String(), "openapi", *openapi)
	if d.String() != "none" {
		log.Warn("DEFECTS SWITCHED ON: this backend is deliberately wrong", "defects", d.String())
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return srv.Close()
}

// loopbackOnly refuses any listen address but a loopback one: the backend
// has no authentication and, with defects, is wrong on purpose.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q: only loopback addresses are allowed (e.g. 127.0.0.1:8000)", addr)
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
