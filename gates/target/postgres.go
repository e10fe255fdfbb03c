package target

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

// PostgresBinDir is where Debian's postgresql-15 installs initdb and pg_ctl
// (CREDITGATE_PG_BIN overrides it).
func PostgresBinDir() string {
	if v := os.Getenv("CREDITGATE_PG_BIN"); v != "" {
		return v
	}
	return "/usr/lib/postgresql/15/bin"
}

// postgres is one throwaway PostgreSQL cluster owned by a cluster target:
// initdb into a temporary directory (as the postgres user when the harness
// is root: initdb refuses root), listening on 127.0.0.1:port with its unix
// socket in that directory. Small on purpose: 32MB shared buffers, 50
// connections; fsync stays on; the WAL writer is slow on purpose (see
// start).
type postgres struct {
	dir  string
	port int

	mu      sync.Mutex
	running bool
}

func newPostgres(ctx context.Context) (*postgres, error) {
	if _, err := os.Stat(filepath.Join(PostgresBinDir(), "initdb")); err != nil {
		return nil, fmt.Errorf("target: cluster needs PostgreSQL 15 (%s/initdb missing): apt-get install postgresql-15", PostgresBinDir())
	}
	dir, err := os.MkdirTemp("", "creditgate-pg-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("target: running as root, the cluster target needs the postgres user: %w", err)
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
	p := &postgres{dir: dir, port: port}
	if out, err := p.cmd(ctx, "initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--data-checksums").CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("target: initdb: %v: %s", err, out)
	}
	if err := p.start(ctx); err != nil {
		return p, err
	}
	return p, nil
}

func (p *postgres) data() string { return filepath.Join(p.dir, "data") }

// Addr is the server's host:port.
func (p *postgres) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// URL is the database every instance shares.
func (p *postgres) URL() string { return p.URLAt(p.Addr()) }

// URLAt is that database reached at another address (a proxy).
func (p *postgres) URLAt(addr string) string {
	return fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", addr)
}

// cmd runs a server binary, as the postgres user when we are root.
func (p *postgres) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	bin := filepath.Join(PostgresBinDir(), name)
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.CommandContext(ctx, bin, args...)
}

func (p *postgres) start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return nil
	}
	// wal_writer_delay=10s: a commit acknowledged before its WAL record
	// was written (a backend whose sessions set synchronous_commit=off)
	// stays in PostgreSQL's WAL buffers until a page fills or 10 s pass,
	// so the database crash of the cluster specs loses it for certain
	// instead of only inside the default 200 ms window. Synchronous
	// commits write and flush their own WAL and are unaffected.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_buffers=32MB -c max_connections=50 -c fsync=on -c synchronous_commit=on -c wal_writer_delay=10s", p.port, p.dir)
	if out, err := p.cmd(ctx, "pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		return fmt.Errorf("target: pg_ctl start: %v: %s", err, out)
	}
	p.running = true
	return nil
}

// stop stops the server: "immediate" is a crash (recovery replays the WAL
// on the next start), "fast" a clean shutdown.
func (p *postgres) stop(ctx context.Context, mode string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return nil
	}
	if out, err := p.cmd(ctx, "pg_ctl", "-D", p.data(), "-m", mode, "-w", "-t", "60", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("target: pg_ctl stop -m %s: %v: %s", mode, err, out)
	}
	p.running = false
	return nil
}

func (p *postgres) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
	if len(b) > 64<<10 {
		b = b[len(b)-64<<10:]
	}
	return string(b)
}

func (p *postgres) remove() error { return os.RemoveAll(p.dir) }
