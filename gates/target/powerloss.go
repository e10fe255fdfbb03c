package target

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/creditgate/creditgate/chaos/lazyfs"
)

// PowerCutter is a target whose data directory is mounted through the
// power-loss layer (chaos/lazyfs, PowerLossOn). Process and container
// targets implement it; use it after Supports(CapPowerLoss) said yes.
type PowerCutter interface {
	// PowerCut simulates a power loss: it cuts the layer's power (at a
	// moment when written data is not yet synced, if one comes within a
	// second; nothing the dying backend still sends can become durable
	// after it), SIGKILLs the backend, drops
	// every byte the backend had not fsync'ed/fdatasync'ed, and starts the
	// backend again on the same directory.
	PowerCut(ctx context.Context) (PowerCutReport, error)
	// SetDiskQuota caps the data directory at n bytes (0: no cap); writes
	// past it fail with ENOSPC. Raising it is how a gate "frees space".
	SetDiskQuota(n int64) error
	// DiskUsed is the data directory's size in bytes.
	DiskUsed() int64
	// FailSyncs cuts the layer's power under a backend left running (while
	// a written byte is not yet synced, if one comes within a second): from
	// then on every fsync/fdatasync fails with EIO while writes still land,
	// unsynced. Only PowerCut (kill, drop the unsynced bytes, restart)
	// brings the power back.
	FailSyncs() error
	// TrapSync arms a fault aimed at one batch (chaos/lazyfs.Trap): the
	// first sync of the bytes holding t.Marker is held for t.Hold and, with
	// t.Fail, fails as FailSyncs does from then on (PowerCut ends it).
	// disarm removes the trap if it has not sprung yet and reports
	// whether it had not.
	TrapSync(t *SyncTrap) (disarm func() bool, err error)
}

// SyncTrap is a fault aimed at one batch's sync (TrapSync).
type SyncTrap = lazyfs.Trap

// PowerCutReport is what a power cut dropped.
type PowerCutReport = lazyfs.CrashReport

// PowerLossMode is Config.PowerLoss: three states, so "not asked for" and
// "refused" (CREDITGATE_POWERLOSS=false) stay apart.
type PowerLossMode int

const (
	// PowerLossAuto: ordinary targets run without the layer; the power-loss
	// gates boot their own layered target where FUSE is available.
	PowerLossAuto PowerLossMode = iota
	// PowerLossOn mounts the data directory through the layer.
	PowerLossOn
	// PowerLossOff disables the layer: the capability is unavailable.
	PowerLossOff
)

// ErrNoPowerLossLayer is returned by PowerCutter methods of a target booted
// without PowerLossOn.
var ErrNoPowerLossLayer = errors.New("target: the data directory is not mounted through the power-loss layer (Config.PowerLoss is not PowerLossOn)")

// powerLossSupport reports whether this machine can mount the layer.
func powerLossSupport(c Config) (bool, string) {
	if c.PowerLoss == PowerLossOff {
		return false, "the power-loss layer is disabled (CREDITGATE_POWERLOSS=false)"
	}
	if ok, why := lazyfs.Available(); !ok {
		return false, why + "; power loss and full disk need FUSE (root, /dev/fuse, fuse3)"
	}
	return true, ""
}

// diskLayer is the lazyfs mount over a target's data directory: the
// backend sees mnt, the files live in the data directory.
type diskLayer struct {
	fs  *lazyfs.FS
	mnt string
}

// mountLayer mounts dir through lazyfs at dir+".mnt". allowOther lets the
// container's non-root user in.
func mountLayer(dir string, cfg Config, allowOther bool) (*diskLayer, error) {
	mnt := dir + ".mnt"
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return nil, fmt.Errorf("target: power-loss mountpoint: %w", err)
	}
	fs, err := lazyfs.Mount(dir, mnt, lazyfs.Options{Quota: cfg.DiskQuota, AllowOther: allowOther, SyncDelay: cfg.SyncDelay})
	if err != nil {
		_ = os.Remove(mnt)
		return nil, fmt.Errorf("target: power-loss layer: %w", err)
	}
	cfg.Logger.Info("data directory mounted through the power-loss layer", "dir", dir, "mount", mnt, "quota", cfg.DiskQuota)
	return &diskLayer{fs: fs, mnt: mnt}, nil
}

func (d *diskLayer) unmount() error {
	if d == nil {
		return nil
	}
	err := d.fs.Unmount()
	if err == nil {
		err = os.Remove(d.mnt)
	}
	return err
}

func (d *diskLayer) setQuota(n int64) error {
	if d == nil {
		return ErrNoPowerLossLayer
	}
	return d.fs.SetQuota(n)
}

func (d *diskLayer) used() int64 {
	if d == nil {
		return 0
	}
	return d.fs.Used()
}

func (d *diskLayer) failSyncs() error {
	if d == nil {
		return ErrNoPowerLossLayer
	}
	// As a cut: inside a batch's write-to-sync window if one comes.
	d.fs.FreezeWhenPending(time.Second)
	return nil
}

func (d *diskLayer) trapSync(t *SyncTrap) (func() bool, error) {
	if d == nil {
		return func() bool { return false }, ErrNoPowerLossLayer
	}
	d.fs.Arm(t)
	return func() bool { return d.fs.Disarm(t) }, nil
}

// cut runs kill between the layer's freeze and crash: whatever the backend
// had not synced when it died is dropped.
func (d *diskLayer) cut(kill func() error) (PowerCutReport, error) {
	if d == nil {
		return PowerCutReport{}, ErrNoPowerLossLayer
	}
	// Cut while a write is pending if one comes within a second: under
	// load that is the moment between a batch's write and its fdatasync.
	d.fs.FreezeWhenPending(time.Second)
	kerr := kill()
	rep, err := d.fs.Crash()
	return rep, errors.Join(kerr, err)
}

// ignoreNotRunning: a backend that already died has nothing left to kill.
func ignoreNotRunning(err error) error {
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	return err
}
