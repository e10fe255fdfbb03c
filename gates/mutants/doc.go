// Package mutants is the catalog of seeded bugs that prove the gates can
// fail: each Mutant names its bug, the gate that runs it and the catalog
// check (gates/catalog) that must fail. The bug itself is ordinary Go under
// bugs/<name>/, mirroring the repo paths of the packages it changes
// (bugs/retry-writes-twice/engine/engine.go is package engine) and kept out
// of normal builds by `//go:build mutant`. Each top-level declaration of a
// bug file replaces the declaration of the same name (a method: receiver
// type and name; a var, const or type: by spec name) wherever it is in the
// package; other declarations are added, but only when a replacement uses
// them, and every mutant must replace something, so a renamed engine
// function fails loudly instead of silently testing the unmutated engine.
// Build merges them with go/parser (the replaced declarations and the
// imports left unused are cut from a copy of the original file; the bug
// file joins the package as mutant_<file>.go) and compiles a throwaway
// creditd through `go build -overlay` (the working tree is never touched);
// gates/verify's loop runs each one.
//
// The engine carries no markers for it: a seeded bug inside a long
// function is planted by factoring the statement into a small named
// function of the engine (journal.repairFile, httpapi.lastChunk, creditd's
// approvalLevels) that the bug file replaces. A bug file copies the whole
// function it replaces, so planted_on.txt records a fingerprint of the
// engine's version each bug was planted on, and a test names every mutant
// whose original has changed since (port the change, then -update).
//
// It owns the mutants, their bug files and the overlay build; it reads the
// engine's sources as text and imports only the standard library (never
// the engine, never the harness).
package mutants
