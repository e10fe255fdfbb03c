// Package coverage is the gates' coverage map: for every route of the
// OpenAPI document (engine/httpapi/openapi.json, read as a file) and every
// rule of SPEC §1–§6 listed here, the gate checks that exercise it.
//
// Invariants, enforced by `go test ./gates/coverage` (which `creditgate
// gates` runs first, so `make gates` says NO-GO "not covered" otherwise):
//   - every OpenAPI route has at least one check, and every mapped route is
//     in the OpenAPI document (no stale entries);
//   - every listed rule has at least one check;
//   - every check named exists: each literal part of its name (placeholders
//     like <mode> stand for the part a gate composes at run time) occurs in
//     the gate sources (gates/a…e, gates/audit);
//   - the generated section of docs/gates.md shows the current map
//     (`go test ./gates/coverage -update` rewrites it).
//
// It must not import engine/ (the map is about the contract, read from
// the document) nor the gate suites.
package coverage
