package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/scenarios/history"
)

// FaultsFile is the name of the fault windows saved beside history.jsonl
// (one history.Window per line, on the history's clock).
const FaultsFile = "faults.jsonl"

// faultLog pairs each Lasting fault in effect with its window in the
// history, so Heal closes the window Inject opened.
type faultLog struct {
	mu   sync.Mutex
	open map[fault.Lasting]uint64
}

// Inject applies f after checking the target can take it, and records its
// window in the client history on the history's clock (the same clock as
// every operation's call and return), whether or not it succeeded: a
// failed injection is still a fault that happened. A Lasting fault's
// window stays open until Heal.
func (e *Env) Inject(ctx context.Context, f fault.Fault) (fault.Window, error) {
	if ok, why := f.Available(e); !ok {
		return fault.Window{}, fmt.Errorf("fault %s: %w: %s", f.Name(), fault.ErrUnavailable, why)
	}
	w, err := f.Inject(ctx)
	if w.Start.IsZero() {
		return w, err
	}
	id := e.C.History.OpenWindow(w.Fault, w.Start, w.End, withErr(w.Detail, err))
	if l, ok := f.(fault.Lasting); ok && w.Open() {
		e.faults.mu.Lock()
		if e.faults.open == nil {
			e.faults.open = map[fault.Lasting]uint64{}
		}
		e.faults.open[l] = id
		e.faults.mu.Unlock()
	}
	ginkgo.GinkgoWriter.Printf("fault %s injected: %s %v\n", w.Fault, w.Detail, err)
	return w, err
}

// Injected is Ensure(err == nil, …) for the error of Inject (or of the
// Heal that restarts the backend): a fault the target cannot take skips the
// node — what it would have measured is not measured, with the reason —
// and any other error fails it, saying what was expected.
func Injected(err error, what string, args ...any) {
	if err == nil {
		return
	}
	w := fmt.Sprintf(what, args...)
	if errors.Is(err, fault.ErrUnavailable) {
		ginkgo.Skip(fmt.Sprintf("not measured: %s needs a fault this target cannot take: %v", w, err))
	}
	ginkgo.Fail(fmt.Sprintf("%s: %v", w, err), 1)
}

// Heal ends a Lasting fault Inject applied and closes its window in the
// history.
func (e *Env) Heal(ctx context.Context, f fault.Lasting) (fault.Window, error) {
	w, err := f.Heal(ctx)
	e.faults.mu.Lock()
	id, ok := e.faults.open[f]
	delete(e.faults.open, f)
	e.faults.mu.Unlock()
	if ok && !w.End.IsZero() {
		e.C.History.CloseWindow(id, w.End, withErr(w.Detail, err))
	}
	ginkgo.GinkgoWriter.Printf("fault %s healed: %s %v\n", f.Name(), w.Detail, err)
	return w, err
}

// Windows are the fault windows recorded in the client history.
func (e *Env) Windows() []history.Window { return e.C.History.Windows() }

func withErr(detail string, err error) string {
	if err == nil {
		return detail
	}
	if detail != "" {
		detail += "; "
	}
	return detail + "error: " + err.Error()
}

// saveWindows writes the history's fault windows into dir (nothing when no
// fault was injected).
func (e *Env) saveWindows(dir string) {
	ws := e.C.History.Windows()
	if len(ws) == 0 {
		return
	}
	f, err := os.Create(filepath.Join(dir, FaultsFile))
	if err != nil {
		ginkgo.GinkgoWriter.Printf("saving the fault windows: %v\n", err)
		return
	}
	defer f.Close()
	_ = history.WriteWindowsJSONL(f, ws)
}
