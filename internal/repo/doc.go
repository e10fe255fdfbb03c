// Package repo finds the repository's root, the directory holding go.mod,
// for the commands and tests that build creditd, read docs/ or patch the
// engine's source files.
//
// It is shared by both wings, so it imports only the standard library.
package repo
