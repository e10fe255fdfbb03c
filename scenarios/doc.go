// Package scenarios owns the six live-test scenarios of SPEC §8 (credit
// storm, synergie anti-gaming, approval race, KARMA blackout, ML chaos,
// crash/replay) and the recording API client they share. A scenario drives
// a target over HTTP, records every mutation in a client history, and
// returns what it measured; it decides nothing — the gates validate the
// history and the journal afterwards.
//
// Every random choice comes from the run's seed. It talks HTTP only and must
// not import engine/ (it must work against any backend implementing the API)
// nor gates/.
package scenarios
