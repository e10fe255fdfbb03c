package pglaunch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/creditgate/creditgate/internal/freeport"
)

// BinDir is where the server binaries live: CREDITGATE_PG_BIN, else where
// Debian's postgresql-15 installs them.
func BinDir() string {
	if v := os.Getenv("CREDITGATE_PG_BIN"); v != "" {
		return v
	}
	return "/usr/lib/postgresql/15/bin"
}

// Installed reports why no server can be launched (initdb missing), or nil.
func Installed() error {
	if _, err := os.Stat(filepath.Join(BinDir(), "initdb")); err != nil {
		return fmt.Errorf("PostgreSQL 15 is not installed (%s/initdb missing): apt-get install postgresql-15", BinDir())
	}
	return nil
}

// Options shape a server. The zero value is valid: 50 connections.
type Options struct {
	// MaxConnections is max_connections (default 50).
	MaxConnections int
	// DataChecksums runs initdb --data-checksums.
	DataChecksums bool
	// NoSync runs initdb --no-sync (the files of a fresh cluster need not
	// survive a crash of the machine; the server itself still fsyncs).
	NoSync bool
	// Settings are further server settings, each "name=value".
	Settings []string
}

// Server is one PostgreSQL cluster: its directory (data/, server.log and
// the unix socket) and its port, both fixed across restarts. Methods are
// safe for concurrent use; Start and Stop are serialized.
type Server struct {
	Dir  string
	Port int

	opts    Options
	mu      sync.Mutex
	running bool
}

// Start initdbs a new cluster in a temporary directory and starts it. On a
// failed start it returns the server too, so the caller can read its Log
// and Remove it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 50
	}
	dir, err := os.MkdirTemp("", "creditgate-pg-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pglaunch: running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	port, err := freeport.Loopback()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{Dir: dir, Port: port, opts: opts}
	args := []string{"-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8"}
	if opts.DataChecksums {
		args = append(args, "--data-checksums")
	}
	if opts.NoSync {
		args = append(args, "--no-sync")
	}
	if out, err := s.Cmd(ctx, "initdb", args...).CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pglaunch: initdb: %v: %s", err, out)
	}
	return s, s.Start(ctx)
}

func (s *Server) data() string { return filepath.Join(s.Dir, "data") }

// Cmd runs a server binary, as the postgres user when we are root.
func (s *Server) Cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	bin := filepath.Join(BinDir(), name)
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.CommandContext(ctx, bin, args...)
}

// Start (re)starts the server on the same data and port; a running server
// is left alone.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_buffers=32MB -c max_connections=%d -c fsync=on",
		s.Port, s.Dir, s.opts.MaxConnections)
	for _, kv := range s.opts.Settings {
		opts += " -c " + kv
	}
	if out, err := s.Cmd(ctx, "pg_ctl", "-D", s.data(), "-l", filepath.Join(s.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		return fmt.Errorf("pglaunch: pg_ctl start: %v: %s", err, out)
	}
	s.running = true
	return nil
}

// Stop stops the server: mode "immediate" is a crash (recovery replays the
// WAL on the next start), "fast" a clean shutdown. A stopped server is left
// alone.
func (s *Server) Stop(ctx context.Context, mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	if out, err := s.Cmd(ctx, "pg_ctl", "-D", s.data(), "-m", mode, "-w", "-t", "60", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pglaunch: pg_ctl stop -m %s: %v: %s", mode, err, out)
	}
	s.running = false
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// URL is the connection URL of database db.
func (s *Server) URL(db string) string { return URLAt(s.Addr(), db) }

// URLAt is the connection URL of database db reached at addr (e.g. a proxy
// in front of the server).
func URLAt(addr, db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", addr, db)
}

// Log is the tail (64 KiB) of the server's log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	if len(b) > 64<<10 {
		b = b[len(b)-64<<10:]
	}
	return string(b)
}

// Remove deletes the server's directory; stop it first.
func (s *Server) Remove() error { return os.RemoveAll(s.Dir) }
