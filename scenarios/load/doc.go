// Package load drives open-model HTTP load against a credit backend and
// records what happened, honestly.
//
// It owns: the load profiles (Config, Phase, pacers Constant / Ramp / Spike
// implementing vegeta's Pacer), the deterministic operation plan (Plan: the
// same seed gives the same operation sequence), the attack itself (Run: a
// small scheduler around the pacers — one dispatcher waits for each hit as
// vegeta's Pace says and hands it, with its intended time HitAt, to a pool of
// Concurrency workers), and the measurements (HDR histograms per endpoint,
// per phase and overall, an HDR interval log, a timeseries, counts). Every
// request is sent and recorded by the one recording client (scenarios/wire)
// into Result.History, a scenarios/history Recorder; the load measures from
// the operations the client returns and records nothing itself. It judges
// nothing: gates/audit judges retries and the journal. Watching the backend while the load runs (RSS, fds, heap,
// goroutines and their trends) is scenarios/sample's job, not this one's.
//
// Invariants:
//   - Latency is measured from the intended send time of a hit (the attack
//     start plus the pacer's offset for that hit, fixed by the dispatcher),
//     never from when a worker got around to sending it, so a stalled
//     server cannot hide its stall (no coordinated omission). See docs/load.md.
//   - Traffic goes to loopback only unless Config.AllowRemote is set; the
//     check is made on the URL and again on every dialed address.
//   - Every loop is bounded in count and time: the plan is finite, the attack
//     stops at the end of its phases (plus the request timeout), the history,
//     and error samples keep at most a configured number of entries
//     and count what they dropped.
//   - Every random choice comes from rand.New(rand.NewPCG(seed, ...)).
//
// It speaks HTTP only (SPEC §6) so it works against any backend; it must not
// import engine/... , gates/, chaos/ or reports/.
package load
