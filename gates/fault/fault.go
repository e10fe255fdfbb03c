package fault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditgate/creditgate/gates/catalog"
)

// Window is when one injected fault was in effect. End is zero while the
// fault lasts (a Lasting fault before its Heal).
type Window struct {
	Fault  string
	Start  time.Time
	End    time.Time
	Detail string
}

// Open reports whether the fault is still in effect.
func (w Window) Open() bool { return w.End.IsZero() }

// Caps answers whether the booted target offers a capability, and if not
// why (gates/harness.Env.Has; target.Config.Supports has the same shape).
type Caps interface {
	Has(catalog.Capability) (bool, string)
}

// Fault is one kind of injection at one site.
type Fault interface {
	// Name names the fault in the history, the checks and the report.
	Name() string
	// Available says whether the target can take this fault, else why not.
	Available(c Caps) (bool, string)
	// Inject applies the fault. An instantaneous fault (power cut, link
	// cut) returns a closed window; a Lasting one returns it open.
	Inject(ctx context.Context) (Window, error)
}

// Lasting is a fault that stays in effect until healed.
type Lasting interface {
	Fault
	// Heal ends the fault and returns its window, closed.
	Heal(ctx context.Context) (Window, error)
}

// ErrNotInjected is returned by Heal of a fault that is not in effect.
var ErrNotInjected = errors.New("fault: healed before it was injected")

// ErrUnavailable wraps the refusal of a fault the target cannot take (no
// crash on a url target, no journal file, no power-loss layer): what needs
// the fault is not measured there, never failed.
var ErrUnavailable = errors.New("fault unavailable on this target")

// needs is Available for a fault that needs every capability of caps.
func needs(c Caps, caps ...catalog.Capability) (bool, string) {
	for _, cp := range caps {
		if ok, why := c.Has(cp); !ok {
			return false, why
		}
	}
	return true, ""
}

// span tracks the window of one Lasting fault.
type span struct {
	w Window
}

// open starts the window now; call it just before the injection acts.
func (s *span) open(name string) time.Time {
	s.w = Window{Fault: name, Start: time.Now()}
	return s.w.Start
}

// opened returns the open window with detail.
func (s *span) opened(detail string) Window {
	s.w.Detail = detail
	return s.w
}

// injected is ErrNotInjected unless the window is open.
func (s *span) injected() error {
	if s.w.Start.IsZero() || !s.w.End.IsZero() {
		return ErrNotInjected
	}
	return nil
}

// close ends the window now (after the heal acted); detail, if not empty,
// is appended.
func (s *span) close(detail string) (Window, error) {
	if s.w.Start.IsZero() || !s.w.End.IsZero() {
		return Window{}, ErrNotInjected
	}
	s.w.End = time.Now()
	if detail != "" {
		if s.w.Detail != "" {
			s.w.Detail += "; "
		}
		s.w.Detail += detail
	}
	return s.w, nil
}

// instant is the closed window of a fault that ran from start to now.
func instant(name string, start time.Time, detail string) Window {
	return Window{Fault: name, Start: start, End: time.Now(), Detail: detail}
}

func errorf(name, format string, a ...any) error {
	return fmt.Errorf("fault %s: %s", name, fmt.Sprintf(format, a...))
}
