package harness

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"
)

// failures collects the failed checks of the running spec (or setup node).
type failures struct {
	mu   sync.Mutex
	msgs []string
}

// failLater records a failed check. The first failure of a node registers a
// DeferCleanup that fails the node once its body has returned, with every
// failure collected meanwhile. The mechanism lives in Check itself, so no
// spec can forget to "flush" its failures, and a check cannot stop the
// checks after it. Call it from the spec's goroutine (as Record).
func (e *Env) failLater(msg string) {
	e.fails.mu.Lock()
	first := len(e.fails.msgs) == 0
	e.fails.msgs = append(e.fails.msgs, msg)
	e.fails.mu.Unlock()
	if !first {
		return
	}
	ginkgo.DeferCleanup(func() {
		e.fails.mu.Lock()
		msgs := e.fails.msgs
		e.fails.msgs = nil
		e.fails.mu.Unlock()
		ginkgo.Fail(fmt.Sprintf("gate %s: %d check(s) failed:\n  - %s\nrepro: %s", e.Gate, len(msgs),
			strings.Join(msgs, "\n  - "), e.P.Repro(e.Gate)))
	})
}

// callerOutsideHarness is the file:line of the gate code that called into
// the harness, so a failure deferred to the end of the spec still points
// at the check that failed.
func callerOutsideHarness() string {
	pcs := make([]uintptr, 20)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, harnessPkg+".") {
			return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return "unknown location"
		}
	}
}

const harnessPkg = "github.com/creditgate/creditgate/gates/harness"
