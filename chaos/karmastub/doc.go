// Package karmastub is the controllable fake KARMA server for the harness
// and for tests of engine/karma. It speaks the contract in docs/karma.md:
// GET /v1/score/{agent_id} answers a deterministic score per agent (a hash of
// the seed and the agent id, in [0.1, 0.95]), GET /healthz answers 200. Both
// obey the current mode: healthy, slow, error, hang, flap or drop. The mode
// is set over GET/POST /control (the Control client) or with Server.SetMode;
// /control itself never obeys the mode, so the harness can always heal the stub.
//
// Invariants: the same seed and agent id always give the same score; a hung
// or delayed request ends when its client goes away, when Close is called,
// or after HangMax at the latest, so the stub never holds a goroutine forever.
//
// A Server is safe for concurrent use. It imports nothing of this module.
package karmastub
