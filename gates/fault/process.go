package fault

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/creditgate/creditgate/chaos/corrupt"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/target"
)

// Process is the part of a target the process faults control
// (target.Target has it).
type Process interface {
	Kill(ctx context.Context) error
	Stop(ctx context.Context) error
	Start(ctx context.Context) error
}

// Kill is kill -9 of the backend: in effect from the SIGKILL until Heal
// has started it again on the same data.
type Kill struct {
	T Process
	s span
}

func (k *Kill) Name() string { return "kill -9" }

func (k *Kill) Available(c Caps) (bool, string) {
	return needs(c, catalog.CapCrash, catalog.CapRestart)
}

func (k *Kill) Inject(ctx context.Context) (Window, error) {
	k.s.open(k.Name())
	if err := k.T.Kill(ctx); err != nil {
		return k.s.opened(""), errorf(k.Name(), "%v", err)
	}
	return k.s.opened("SIGKILL"), nil
}

// Heal starts the backend again.
func (k *Kill) Heal(ctx context.Context) (Window, error) {
	if err := k.s.injected(); err != nil {
		return Window{}, err
	}
	if err := k.T.Start(ctx); err != nil {
		w, _ := k.s.close("restart failed: " + err.Error())
		return w, errorf(k.Name(), "restart: %v", err)
	}
	return k.s.close("restarted")
}

// Restart is a clean stop (SIGTERM, drained): in effect until Heal has
// started the backend again on the same data.
type Restart struct {
	T Process
	s span
}

func (r *Restart) Name() string { return "clean restart" }

func (r *Restart) Available(c Caps) (bool, string) { return needs(c, catalog.CapRestart) }

func (r *Restart) Inject(ctx context.Context) (Window, error) {
	r.s.open(r.Name())
	if err := r.T.Stop(ctx); err != nil {
		return r.s.opened(""), errorf(r.Name(), "stop: %v", err)
	}
	return r.s.opened("stopped"), nil
}

func (r *Restart) Heal(ctx context.Context) (Window, error) {
	if err := r.s.injected(); err != nil {
		return Window{}, err
	}
	if err := r.T.Start(ctx); err != nil {
		w, _ := r.s.close("start failed: " + err.Error())
		return w, errorf(r.Name(), "start: %v", err)
	}
	return r.s.close("started")
}

// Corruption stops the backend and damages its journal file with one
// corruptor (chaos/corrupt), its random choices from Rand; Heal starts the
// backend on the damaged file. Damage is what the last Inject destroyed.
type Corruption struct {
	T       Process
	Path    string
	C       corrupt.Corruptor
	Rand    *rand.Rand
	Damage  corrupt.Damage
	stopped bool
	s       span
}

func (c *Corruption) Name() string { return "journal corruption: " + c.C.Name }

func (c *Corruption) Available(cp Caps) (bool, string) {
	return needs(cp, catalog.CapJournalFile, catalog.CapRestart)
}

// Inject stops the backend cleanly, then damages the file. A stop failure
// leaves the file untouched.
func (c *Corruption) Inject(ctx context.Context) (Window, error) {
	c.s.open(c.Name())
	c.Damage, c.stopped = corrupt.Damage{}, false
	if err := c.T.Stop(ctx); err != nil {
		return c.s.opened(""), errorf(c.Name(), "stop: %v", err)
	}
	c.stopped = true
	d, err := corrupt.ApplyFile(c.Path, c.C, c.Rand)
	c.Damage = d
	if err != nil {
		return c.s.opened(""), errorf(c.Name(), "%v", err)
	}
	return c.s.opened(describeDamage(d)), nil
}

// Heal starts the backend on the damaged journal: its error is what
// recovery made of the damage.
func (c *Corruption) Heal(ctx context.Context) (Window, error) {
	if err := c.s.injected(); err != nil {
		return Window{}, err
	}
	if err := c.T.Start(ctx); err != nil {
		w, _ := c.s.close("start failed: " + err.Error())
		return w, err
	}
	return c.s.close("started on the damaged journal")
}

func describeDamage(d corrupt.Damage) string {
	if d.Line == 0 {
		return "nothing to damage"
	}
	s := string(d.Expect) + " at line " + strconv.Itoa(d.Line)
	if d.EntityID != "" {
		s += ", first line of " + d.EntityKind + " " + d.EntityID
	}
	return s
}

// PowerCut cuts the power under a target on the power-loss layer: SIGKILL
// and every unsynced byte dropped, then a restart (target.PowerCutter).
// Report is what the last cut dropped. The window ends when the backend
// serves again.
type PowerCut struct {
	PC     target.PowerCutter
	Report target.PowerCutReport
}

func (p *PowerCut) Name() string { return "power cut" }

func (p *PowerCut) Available(c Caps) (bool, string) { return needs(c, catalog.CapPowerLoss) }

func (p *PowerCut) Inject(ctx context.Context) (Window, error) {
	start := time.Now()
	rep, err := p.PC.PowerCut(ctx)
	p.Report = rep
	w := instant(p.Name(), start, strconv.FormatInt(int64(rep.BytesDropped), 10)+" unsynced bytes dropped from "+strconv.Itoa(rep.FilesReverted)+" file(s), "+
		strconv.Itoa(rep.FilesRemoved)+" never-durable file(s) removed")
	if err != nil {
		return w, errorf(p.Name(), "%v", err)
	}
	return w, nil
}

// SyncsFail cuts the power under a running backend (on the power-loss
// layer), inside a batch's write-to-sync window when one comes: every
// fsync/fdatasync fails with EIO while writes still land, unsynced, so a
// batch whose write succeeded fails at its sync.
// Heal is the rest of a power cut: SIGKILL, every unsynced byte dropped, a
// restart; Report is what it dropped.
type SyncsFail struct {
	PC     target.PowerCutter
	Report target.PowerCutReport
	s      span
}

func (f *SyncsFail) Name() string { return "syncs fail" }

func (f *SyncsFail) Available(c Caps) (bool, string) { return needs(c, catalog.CapPowerLoss) }

func (f *SyncsFail) Inject(ctx context.Context) (Window, error) {
	f.s.open(f.Name())
	if err := f.PC.FailSyncs(); err != nil {
		return f.s.opened(""), errorf(f.Name(), "%v", err)
	}
	return f.s.opened("every fsync/fdatasync fails with EIO"), nil
}

func (f *SyncsFail) Heal(ctx context.Context) (Window, error) {
	if err := f.s.injected(); err != nil {
		return Window{}, err
	}
	rep, err := f.PC.PowerCut(ctx)
	f.Report = rep
	if err != nil {
		return Window{}, errorf(f.Name(), "the power cut that ends it: %v", err)
	}
	return f.s.close(strconv.FormatInt(int64(rep.BytesDropped), 10) + " unsynced bytes dropped, restarted")
}

// DiskFull caps the data directory (on the power-loss layer) at its size
// plus Room bytes: writes past it fail with ENOSPC. Heal lifts the cap.
type DiskFull struct {
	PC   target.PowerCutter
	Room int64
	s    span
}

func (d *DiskFull) Name() string { return "disk full" }

func (d *DiskFull) Available(c Caps) (bool, string) { return needs(c, catalog.CapPowerLoss) }

func (d *DiskFull) Inject(ctx context.Context) (Window, error) {
	d.s.open(d.Name())
	used := d.PC.DiskUsed()
	if err := d.PC.SetDiskQuota(used + d.Room); err != nil {
		return d.s.opened(""), errorf(d.Name(), "quota of %d bytes of room: %v", d.Room, err)
	}
	return d.s.opened("quota " + strconv.FormatInt(used+d.Room, 10) + " bytes (" + strconv.FormatInt(d.Room, 10) + " of room)"), nil
}

func (d *DiskFull) Heal(ctx context.Context) (Window, error) {
	if err := d.s.injected(); err != nil {
		return Window{}, err
	}
	if err := d.PC.SetDiskQuota(0); err != nil {
		return Window{}, errorf(d.Name(), "lifting the quota: %v", err)
	}
	return d.s.close("quota lifted")
}

// BatchSync is a fault aimed at one batch (on the power-loss layer): the
// sync of the batch whose written bytes hold Marker (an id only that
// batch's commands carry) is held for Hold, so whatever the caller sends
// meanwhile queues behind that batch or waits on it; with Fail that sync
// then fails with EIO, as does every later one (the journal's sticky
// error), until Heal's power cut. Without Fail the batch only commits late
// and Heal waits for its hold to end. Caught and Released say when the
// hold began and ended; Report is what Heal's power cut dropped.
type BatchSync struct {
	PC     target.PowerCutter
	Marker string
	File   string // when set, only syncs of this file (path under the data directory) count
	Hold   time.Duration
	Fail   bool
	Report target.PowerCutReport
	trap   *target.SyncTrap
	disarm func() bool
	s      span
}

func (b *BatchSync) Name() string {
	if b.Fail {
		return "batch sync fails"
	}
	return "batch sync held"
}

func (b *BatchSync) Available(c Caps) (bool, string) { return needs(c, catalog.CapPowerLoss) }

// Inject arms the trap; the fault acts when the marked batch reaches its
// sync.
func (b *BatchSync) Inject(ctx context.Context) (Window, error) {
	b.s.open(b.Name())
	b.trap = &target.SyncTrap{Marker: []byte(b.Marker), File: b.File, Hold: b.Hold, Fail: b.Fail}
	var err error
	if b.disarm, err = b.PC.TrapSync(b.trap); err != nil {
		return b.s.opened(""), errorf(b.Name(), "%v", err)
	}
	return b.s.opened("the sync of the batch holding " + strconv.Quote(b.Marker) + " is held " + b.Hold.String()), nil
}

// Caught is closed when the marked batch's sync began its hold (never, if
// no batch carried the marker to a sync).
func (b *BatchSync) Caught() <-chan struct{} { return b.trap.Caught() }

// Released is closed when that hold ended.
func (b *BatchSync) Released() <-chan struct{} { return b.trap.Released() }

func (b *BatchSync) Heal(ctx context.Context) (Window, error) {
	if err := b.s.injected(); err != nil {
		return Window{}, err
	}
	neverSprung := b.disarm()
	if !b.Fail {
		if neverSprung {
			return b.s.close("no batch carried the marker to a sync")
		}
		select {
		case <-b.trap.Released():
			return b.s.close("released")
		case <-ctx.Done():
			return b.s.close("")
		}
	}
	rep, err := b.PC.PowerCut(ctx)
	b.Report = rep
	if err != nil {
		return Window{}, errorf(b.Name(), "the power cut that ends it: %v", err)
	}
	return b.s.close(strconv.FormatInt(int64(rep.BytesDropped), 10) + " unsynced bytes dropped, restarted")
}
