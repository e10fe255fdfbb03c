package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditgate/creditgate/internal/pglaunch"
)

// BinDir is where the server binaries live (CREDITGATE_PG_BIN, else
// Debian's postgresql-15).
var BinDir = pglaunch.BinDir()

// Server is one running PostgreSQL cluster.
type Server struct {
	*pglaunch.Server
	n atomic.Int64
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
	if err := pglaunch.Installed(); err != nil {
		if os.Getenv("CREDITGATE_REQUIRE_PG") != "" {
			t.Fatalf("PostgreSQL required: %v", err)
		}
		t.Skip(err)
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
		_ = shared.Remove()
	}
}

// Start initdbs and starts a new server (small: 32MB shared buffers, 300
// connections so pgbench can run 256 clients beside the stores, fsync on).
func Start() (*Server, error) {
	s, err := pglaunch.Start(context.Background(), pglaunch.Options{MaxConnections: 300, NoSync: true})
	if s == nil {
		return nil, err
	}
	return &Server{Server: s}, err
}

// StartServer (re)starts the server on the same data and port.
func (s *Server) StartServer() error { return s.Server.Start(context.Background()) }

// StopMode stops the server; mode "immediate" is a crash (no checkpoint).
func (s *Server) StopMode(mode string) error { return s.Server.Stop(context.Background(), mode) }

// Stop stops the server fast.
func (s *Server) Stop() error { return s.StopMode("fast") }

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
