// Package importrules holds one test, TestImportRules, which enforces the
// import rules the packages' doc.go files state (and docs/architecture.md
// explains): the module is two wings joined only by HTTP — the engine
// (engine/..., cmd/creditd) and the harness (gates/, scenarios/, reports/,
// cmd/creditgate) — plus chaos/, which both may use but which imports
// neither.
//
// The rules are a table in rules_test.go, one row per "must not import"
// sentence; change a doc.go and its row together. The test reads the import
// graph with `go list -json ./...`, so it needs the go command and nothing
// else.
//
// This package has no code and imports nothing of this module.
package importrules
