package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Policy decides what recovery does with corruption in the middle of the
// file. A torn tail is always cut, whatever the policy: it is an
// unacknowledged write, not a media fault.
type Policy string

const (
	// PolicyQuarantine moves bad lines to <path>.quarantine, rewrites the
	// file without them and starts.
	PolicyQuarantine Policy = "quarantine"
	// PolicyStrict refuses to open with a *CorruptionError and changes
	// nothing.
	PolicyStrict Policy = "strict"
)

// Defaults and hard limits of Config.
const (
	DefaultMaxBatch = 512
	DefaultQueueLen = 4096

	MaxMaxBatch = 8192
	MaxMaxWait  = 10 * time.Millisecond
	MaxQueueLen = 1 << 16
)

// Config configures Open. The zero value is valid except for Path.
type Config struct {
	// Path of the JSONL journal file. Required.
	Path string
	// FS is the filesystem seam; nil means OSFS.
	FS FS
	// NoSync skips fdatasync (bytes are still written). For throwaway runs
	// only: an acknowledged append may then be lost on power failure.
	NoSync bool
	// Recovery is the policy for mid-file corruption; "" means quarantine.
	Recovery Policy
	// MaxBatch bounds the events of one group commit (one write + one
	// sync). 0 means DefaultMaxBatch; 1 means one fsync per submission.
	// A single submission larger than MaxBatch is still written whole.
	MaxBatch int
	// MaxWait is how long the writer may wait for more submissions to fill
	// a batch. 0 means take what is queued and go.
	MaxWait time.Duration
	// QueueLen bounds the submission queue; Submit blocks when it is full.
	// 0 means DefaultQueueLen.
	QueueLen int
	// Now names sidecar files; nil means time.Now.
	Now func() time.Time
	// Logger receives recovery findings and slow syncs; nil means
	// slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the configuration Open uses for zero fields.
func DefaultConfig(path string) Config {
	return Config{
		Path:     path,
		FS:       OSFS,
		Recovery: PolicyQuarantine,
		MaxBatch: DefaultMaxBatch,
		QueueLen: DefaultQueueLen,
		Now:      time.Now,
		Logger:   slog.Default(),
	}
}

// Validate reports the first field outside its limits. Zero values are
// valid (they mean the default) except Path.
func (c Config) Validate() error {
	switch {
	case c.Path == "":
		return errors.New("journal: config: Path is required")
	case c.Recovery != "" && c.Recovery != PolicyQuarantine && c.Recovery != PolicyStrict:
		return fmt.Errorf("journal: config: Recovery %q is not %q or %q", c.Recovery, PolicyQuarantine, PolicyStrict)
	case c.MaxBatch < 0 || c.MaxBatch > MaxMaxBatch:
		return fmt.Errorf("journal: config: MaxBatch %d outside [0, %d]", c.MaxBatch, MaxMaxBatch)
	case c.MaxWait < 0 || c.MaxWait > MaxMaxWait:
		return fmt.Errorf("journal: config: MaxWait %v outside [0, %v]", c.MaxWait, MaxMaxWait)
	case c.QueueLen < 0 || c.QueueLen > MaxQueueLen:
		return fmt.Errorf("journal: config: QueueLen %d outside [0, %d]", c.QueueLen, MaxQueueLen)
	}
	return nil
}

// withDefaults fills zero fields; call after Validate.
func (c Config) withDefaults() Config {
	d := DefaultConfig(c.Path)
	if c.FS == nil {
		c.FS = d.FS
	}
	if c.Recovery == "" {
		c.Recovery = d.Recovery
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.QueueLen == 0 {
		c.QueueLen = d.QueueLen
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}
