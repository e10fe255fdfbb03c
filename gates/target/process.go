package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creditgate/creditgate/internal/freeport"
)

// processTarget runs the backend as a child process: creditd (kind
// process) or any command line (kind exec, see exec.go), which differ only
// in command, journal and ready.
type processTarget struct {
	kind       Kind
	command    func() *exec.Cmd // a new, unstarted command for each Start
	journal    string           // JournalPath; "" when unknown
	ready      func(ctx context.Context, alive func(context.Context) error) error
	cfg        Config
	binary     string
	baseURL    string
	addr       string
	port       int // of addr, for a command line's {port}
	dataDir    string
	ownDataDir bool
	work       string     // the directory the backend uses: dataDir or the layer's mount
	layer      *diskLayer // nil without PowerLossOn
	logPath    string
	logs       *tailBuffer
	logger     *slog.Logger

	mu         sync.Mutex // serializes control operations
	run        *processRun
	terminated bool
}

// processRun is one execution of the binary.
type processRun struct {
	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{} // closed after Wait returned
	waitErr error         // valid after done
}

func newProcess(ctx context.Context, cfg Config) (Target, error) {
	binary, err := Binary(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p, err := newProcessTarget(cfg, KindProcess, ".creditd.log")
	if err != nil {
		return nil, err
	}
	p.binary = binary
	if cfg.PowerLoss == PowerLossOn {
		if p.layer, err = mountLayer(p.dataDir, cfg, false); err != nil {
			return p, err
		}
		p.work = p.layer.mnt
	}
	p.journal = filepath.Join(p.work, JournalName)
	p.command = p.creditdCommand
	p.ready = func(ctx context.Context, alive func(context.Context) error) error {
		return waitHealthy(ctx, p.baseURL, p.cfg.Token, p.cfg.StartTimeout, alive)
	}
	if err := p.Start(ctx); err != nil {
		// Hand back p so the caller's Terminate cleans up the data directory.
		return p, err
	}
	return p, nil
}

func (p *processTarget) Kind() Kind          { return p.kind }
func (p *processTarget) BaseURL() string     { return p.baseURL }
func (p *processTarget) Token() string       { return p.cfg.Token }
func (p *processTarget) JournalPath() string { return p.journal }

func (p *processTarget) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.runningLocked() {
		return 0
	}
	return p.run.cmd.Process.Pid
}

func (p *processTarget) runningLocked() bool {
	if p.run == nil {
		return false
	}
	select {
	case <-p.run.done:
		return false
	default:
		return true
	}
}

func (p *processTarget) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminated {
		return errors.New("target: process target terminated")
	}
	if p.runningLocked() {
		return ErrRunning
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("target: backend log: %w", err)
	}
	cmd := p.command()
	out := io.MultiWriter(p.logs, logFile)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a ^C to the harness reaches the harness, which
		// then stops the backend in order.
		Setpgid: true,
		// A harness killed by `go test -timeout` must not leave an orphan
		// backend holding the port.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("target: start %s: %w", cmd.Path, err)
	}
	run := &processRun{cmd: cmd, logFile: logFile, done: make(chan struct{})}
	go func() {
		run.waitErr = cmd.Wait()
		run.logFile.Close()
		close(run.done)
	}()
	p.run = run
	p.logger.Info("started backend", "pid", cmd.Process.Pid, "binary", cmd.Path)

	alive := func(context.Context) error {
		select {
		case <-run.done:
			return fmt.Errorf("exited: %v; log tail:\n%s", run.waitErr, lastLines(p.logs.String(), 20))
		default:
			return nil
		}
	}
	return p.ready(ctx, alive)
}

// creditdCommand runs the creditd binary with an explicit environment, not
// the harness's: a CREDITD_* variable in the developer's shell must not
// silently change what the gates test.
func (p *processTarget) creditdCommand() *exec.Cmd {
	cmd := exec.Command(p.binary)
	env := backendEnv(p.cfg, p.addr, p.JournalPath())
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	// Never the layer's mount: the forked child would chdir into a FUSE
	// mount served by this very process before it execs, and can deadlock
	// there.
	cmd.Dir = p.dataDir
	return cmd
}

func (p *processTarget) Kill(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killLocked(ctx)
}

func (p *processTarget) killLocked(ctx context.Context) error {
	if !p.runningLocked() {
		return ErrNotRunning
	}
	pid := p.run.cmd.Process.Pid
	// The whole process group (Setpgid): an exec backend's workers or
	// wrapper children die with it, as in a power cut.
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("target: SIGKILL process group %d: %w", pid, err)
	}
	select {
	case <-p.run.done:
		p.logger.Info("killed backend", "pid", pid)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("target: pid %d not reaped after SIGKILL: %w", pid, ctx.Err())
	}
}

func (p *processTarget) Stop(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.runningLocked() {
		return ErrNotRunning
	}
	return p.stopLocked(ctx)
}

func (p *processTarget) stopLocked(ctx context.Context) error {
	run := p.run
	pid := run.cmd.Process.Pid
	// The process group, like Kill: a wrapper (sh -c, a supervisor) must
	// not exit and leave its server holding the port.
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("target: SIGTERM process group %d: %w", pid, err)
	}
	timer := time.NewTimer(p.cfg.StopTimeout)
	defer timer.Stop()
	select {
	case <-run.done:
		_ = syscall.Kill(-pid, syscall.SIGKILL) // stragglers of the group, if any
		if run.waitErr != nil {
			return fmt.Errorf("target: backend did not exit cleanly after SIGTERM: %w", run.waitErr)
		}
		p.logger.Info("stopped backend", "pid", pid)
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-run.done
	return fmt.Errorf("target: backend pid %d did not exit within %s of SIGTERM; SIGKILLed", pid, p.cfg.StopTimeout)
}

func (p *processTarget) Logs(ctx context.Context) (string, error) {
	return p.logs.String(), nil
}

func (p *processTarget) Terminate(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminated {
		return nil
	}
	p.terminated = true
	var errs []error
	if p.runningLocked() {
		errs = append(errs, p.stopLocked(ctx))
	}
	errs = append(errs, p.layer.unmount())
	if p.ownDataDir {
		errs = append(errs, os.RemoveAll(p.dataDir))
		if err := os.Remove(p.logPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err) // no log when the backend never started
		}
	}
	return errors.Join(errs...)
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	end := len(s)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' && i != len(s)-1 {
			n--
			if n == 0 {
				return s[i+1 : end]
			}
		}
	}
	return s
}

// PowerCut: see PowerCutter.
func (p *processTarget) PowerCut(ctx context.Context) (PowerCutReport, error) {
	p.mu.Lock()
	rep, err := p.layer.cut(func() error { return ignoreNotRunning(p.killLocked(ctx)) })
	p.mu.Unlock()
	if err != nil {
		return rep, err
	}
	p.logger.Info("power cut", "bytes_dropped", rep.BytesDropped, "files_reverted", rep.FilesReverted, "files_removed", rep.FilesRemoved)
	return rep, p.Start(ctx)
}

func (p *processTarget) SetDiskQuota(n int64) error                { return p.layer.setQuota(n) }
func (p *processTarget) DiskUsed() int64                           { return p.layer.used() }
func (p *processTarget) FailSyncs() error                          { return p.layer.failSyncs() }
func (p *processTarget) TrapSync(t *SyncTrap) (func() bool, error) { return p.layer.trapSync(t) }

// newProcessTarget reserves the data directory and a loopback port for a
// backend the harness runs as a child process (process and exec kinds).
// The log file sits next to (not inside) the data directory, so the data
// directory holds only what the backend wrote.
func newProcessTarget(cfg Config, kind Kind, logSuffix string) (*processTarget, error) {
	dir, own, err := dataDir(cfg)
	if err != nil {
		return nil, err
	}
	port, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	return &processTarget{
		kind:       kind,
		cfg:        cfg,
		addr:       addr,
		port:       port,
		baseURL:    "http://" + addr,
		dataDir:    dir,
		ownDataDir: own,
		logPath:    dir + logSuffix,
		logs:       &tailBuffer{limit: logLimitBytes},
		logger:     cfg.Logger.With("target", string(kind), "addr", addr),
		work:       dir,
	}, nil
}
