// Package scenarios owns the six live-test scenarios of SPEC §8 (credit
// storm, synergie anti-gaming, approval race, KARMA blackout, ML chaos,
// crash/replay) and the API client they share, which sends and records
// through the one recording client (scenarios/wire). A scenario drives
// a target over HTTP, records every request (reads included) in the one
// client history (scenarios/history), and returns what it measured; it
// decides nothing — gates/audit judges the history and the journal
// afterwards (retries included).
//
// Every random choice comes from the run's seed. It talks HTTP only and must
// not import engine/ (it must work against any backend implementing the API)
// nor gates/.
package scenarios
