// Package wire is the one recording client of the harness: every request a
// scenario (scenarios.Client) or the load (scenarios/load) sends goes
// through Client.Send, which builds it, times it on the history's clock,
// reads a bounded answer, classifies it with history.Fill and adds the
// operation to the history.Recorder — the one recording path.
//
// It owns sending and recording one request. It does not pace, retry,
// aggregate latencies or judge: callers measure from the operation it
// returns, and gates/audit judges the history.
//
// Invariants: every request that reached the transport is recorded exactly
// once, whatever came back (a transport error or timeout is Unknown);
// CallNs is taken just before the request is handed to the transport and
// ReturnNs after the whole (bounded) body was read, both on the
// Recorder's base.
//
// It imports only the standard library and scenarios/history; it must not
// import engine/..., gates/, chaos/ or reports/, nor the scenarios that
// use it.
package wire
