package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/internal/freeport"
)

// BinDir is where Debian's postgresql-15 installs its server binaries.
var BinDir = envOr("CREDITGATE_PG_BIN", "/usr/lib/postgresql/15/bin")

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// Server is one running PostgreSQL cluster.
type Server struct {
	Dir  string
	Port int
	mu   sync.Mutex
	n    atomic.Int64
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns the server shared by every test of the process (started
// on first use, stopped by the process's TestMain via StopShared or left to
// die with the temp dir).
func Shared(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err != nil {
		if os.Getenv("CREDITGATE_REQUIRE_PG") != "" {
			t.Fatalf("PostgreSQL required but %s/initdb is missing", BinDir)
		}
		t.Skipf("PostgreSQL is not installed (%s/initdb missing); apt-get install postgresql-15", BinDir)
	}
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// StopShared stops the shared server if one was started.
func StopShared() {
	if shared != nil {
		_ = shared.Stop()
		_ = os.RemoveAll(shared.Dir)
	}
}

// asPostgres runs a server binary, as the postgres user when we are root.
func asPostgres(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(BinDir, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

// Start initdbs and starts a new server (small: 32MB shared buffers, 300
// connections so pgbench can run 256 clients beside the stores, fsync on).
func Start() (*Server, error) {
	dir, err := os.MkdirTemp("", "creditgate-pg-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	port, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Port: port}
	if out, err := asPostgres("initdb", "-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v: %s", err, out)
	}
	return s, s.StartServer()
}

func (s *Server) data() string { return filepath.Join(s.Dir, "data") }

// StartServer (re)starts the server on the same data and port.
func (s *Server) StartServer() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_buffers=32MB -c max_connections=300 -c fsync=on", s.Port, s.Dir)
	if out, err := asPostgres("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %v: %s", err, out)
	}
	return nil
}

// Stop stops the server; mode "immediate" is a crash (no checkpoint).
func (s *Server) StopMode(mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, err := asPostgres("pg_ctl", "-D", s.data(), "-m", mode, "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Stop stops the server fast.
func (s *Server) Stop() error { return s.StopMode("fast") }

// URL is the connection URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// FreshDB creates a new empty database and returns its URL.
func (s *Server) FreshDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, s.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(BinDir, "createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "postgres", name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("create database: %v: %s", err, out)
	}
	return s.URL(name)
}
