package history

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

// maxWindows bounds the fault windows a Recorder keeps: a run injects a
// handful of faults, a generator a few hundred; beyond the cap they are
// counted as dropped like operations.
const maxWindows = 4096

// Window is one fault injection on the Recorder's clock: StartNs when the
// injection began, EndNs when its effect ended (a restart returned, a link
// healed); EndNs is 0 while the fault is still in effect. A checker reads
// "acknowledged during the cut" as an op whose ReturnNs lies in
// [StartNs, EndNs].
type Window struct {
	ID    uint64 `json:"id"`
	Fault string `json:"fault"`
	// StartNs and EndNs are nanoseconds since the Recorder's base, like
	// Op.CallNs and Op.ReturnNs.
	StartNs int64  `json:"start_ns"`
	EndNs   int64  `json:"end_ns,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Open reports whether the fault is still in effect (not yet healed).
func (w Window) Open() bool { return w.EndNs == 0 }

// Contains reports whether ns lies within the window; an open window
// extends to the end of the history.
func (w Window) Contains(ns int64) bool {
	return ns >= w.StartNs && (w.Open() || ns <= w.EndNs)
}

// At is t on the Recorder's clock (nanoseconds since the base). t should
// carry a monotonic reading (a time.Now() value), as the base does.
func (r *Recorder) At(t time.Time) int64 { return int64(t.Sub(r.base)) }

// OpenWindow records a fault that began at start and returns its id for
// CloseWindow. A fault that has already ended (a kill with its restart)
// passes a non-zero end.
func (r *Recorder) OpenWindow(fault string, start, end time.Time, detail string) uint64 {
	w := Window{Fault: fault, StartNs: r.At(start), Detail: detail}
	if !end.IsZero() {
		w.EndNs = max(w.StartNs, r.At(end))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextWindow++
	w.ID = r.nextWindow
	if len(r.windows) >= maxWindows {
		r.droppedWindows++
		return w.ID
	}
	r.windows = append(r.windows, w)
	return w.ID
}

// CloseWindow records that the fault of window id ended at end; a non-empty
// detail replaces the window's. Unknown ids (dropped windows) are ignored.
func (r *Recorder) CloseWindow(id uint64, end time.Time, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.windows {
		if r.windows[i].ID == id {
			r.windows[i].EndNs = max(r.windows[i].StartNs, r.At(end))
			if detail != "" {
				r.windows[i].Detail = detail
			}
			return
		}
	}
}

// Windows returns a copy of the fault windows, in the order they opened.
func (r *Recorder) Windows() []Window {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Window(nil), r.windows...)
}

// WriteWindowsJSONL writes the recorder's fault windows, one per line.
func (r *Recorder) WriteWindowsJSONL(w io.Writer) error {
	return WriteWindowsJSONL(w, r.Windows())
}

// WriteWindowsJSONL writes ws one per line.
func WriteWindowsJSONL(w io.Writer, ws []Window) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range ws {
		if err := enc.Encode(&ws[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadWindowsJSONL reads at most maxWindows fault windows.
func ReadWindowsJSONL(rd io.Reader) ([]Window, error) {
	dec := json.NewDecoder(bufio.NewReader(rd))
	var out []Window
	for len(out) < maxWindows {
		var w Window
		if err := dec.Decode(&w); err == io.EOF {
			break
		} else if err != nil {
			return out, err
		}
		out = append(out, w)
	}
	return out, nil
}
