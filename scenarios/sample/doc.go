// Package sample watches the backend under test, not the load: it samples
// the backend process's resources (RSS and open fds from /proc/<pid>, heap
// and goroutines from its Prometheus /metrics, or all four from /metrics
// when there is no PID) at an interval, and fits least-squares trends over
// the steady state (ComputeTrend), which gate E judges as leaks.
//
// Invariants: a field that could not be read is -1, never 0; the kept
// samples are bounded (Config.MaxSamples) and the rest counted (Dropped);
// the metrics URL is loopback only unless Config.AllowRemote, checked on the
// URL and again on every dialed address; Start once, Stop once, and the
// readers are safe from any goroutine.
//
// It imports only the standard library and the harness's loopback rule
// (scenarios/loopback; tests too): it speaks HTTP and reads /proc, so it
// works for any backend and any load generator.
package sample
