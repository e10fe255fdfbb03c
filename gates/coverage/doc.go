// Package coverage is the gates' coverage map: for every route of the
// OpenAPI document (engine/httpapi/openapi.json, read as a file) and every
// SPEC rule, the catalog checks (gates/catalog) that call or guard it. The
// map is read from the catalog's fields, never from the suites' sources.
//
// Invariants, enforced by `go test ./gates/coverage` (which `creditgate
// gates` runs first, so `make gates` says NO-GO "not covered" otherwise):
//   - every OpenAPI route is called by at least one catalog check, and every
//     catalog route is in the OpenAPI document (no stale entries);
//   - every rule is guarded by at least one check; the catalog is consistent;
//   - the generated section of docs/gates.md shows the current map
//     (`go test ./gates/coverage -update` rewrites it).
//
// Whether each applicable check was actually recorded is judged per run, in
// the report ("no spec recorded it" is NOT MEASURED).
//
// It must not import engine/ (the map is about the contract, read from
// the document) nor the gate suites.
package coverage
