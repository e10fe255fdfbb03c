package engine

import (
	"errors"
	"sync"
)

// MaxDeepScans bounds the history pages read from the journal at once
// (pages beyond the in-memory ledger window). Each reads the whole journal:
// unbounded, 8 readers pushed consume p50 from 0.7 to 112 ms on 2 cores.
const MaxDeepScans = 2

// ErrBusy: MaxDeepScans journal scans are running; the caller retries
// later (HTTP 503 with Retry-After).
var ErrBusy = errors.New("engine: busy: too many history pages are being read from the journal; retry later")

// scanGate bounds and cancels deep scans. Its zero value is ready; safe for
// concurrent use.
type scanGate struct {
	once  sync.Once
	slots chan struct{}
	quit  chan struct{} // closed by cancel: running scans stop, new ones are refused
	stop  sync.Once
	// hook, when set (tests only), runs for each event a scan reads.
	hook func()
}

func (g *scanGate) init() {
	g.once.Do(func() {
		g.slots = make(chan struct{}, MaxDeepScans)
		g.quit = make(chan struct{})
	})
}

// acquire takes a slot: ErrClosed after cancel, ErrBusy when all are taken.
func (g *scanGate) acquire() error {
	g.init()
	select {
	case <-g.quit:
		return ErrClosed
	default:
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
		return ErrBusy
	}
}

func (g *scanGate) release() { <-g.slots }

// cancelled reports whether cancel was called; called once per event.
func (g *scanGate) cancelled() bool {
	if g.hook != nil {
		g.hook()
	}
	select {
	case <-g.quit:
		return true
	default:
		return false
	}
}

func (g *scanGate) cancel() {
	g.init()
	g.stop.Do(func() { close(g.quit) })
}

// CancelScans stops the history pages being read from the journal (they
// answer ErrClosed) and refuses new ones. creditd calls it when shutdown
// starts, so a deep scan never holds the drain; Close calls it too.
func (e *Engine) CancelScans() { e.scans.cancel() }
