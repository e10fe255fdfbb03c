// Package mutants is the catalog of seeded bugs that prove the gates can
// fail: each Mutant names its bug, the gate that runs it and the catalog
// check (gates/catalog) that must fail, with the text patches that plant
// the bug in the engine, anchored on `//mutant:<marker>` comments. Build
// compiles a throwaway creditd through `go build -overlay` (the working
// tree is never touched); cmd/creditgate's verify-gates runs each one.
//
// It owns the mutants, their patches and the overlay build; it reads the
// engine's sources as text and imports only the standard library (never
// the engine, never the harness).
package mutants
