package engine

// Test hooks for the deep-scan gate (deepscan.go).

// SetScanHook runs f for each event a deep history scan reads.
func SetScanHook(e *Engine, f func()) { e.scans.hook = f }

// HoldScanSlots takes n scan slots until release is called.
func HoldScanSlots(e *Engine, n int) (release func()) {
	for range n {
		if err := e.scans.acquire(); err != nil {
			panic(err)
		}
	}
	return func() {
		for range n {
			e.scans.release()
		}
	}
}
