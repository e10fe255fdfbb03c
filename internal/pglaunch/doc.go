// Package pglaunch starts a throwaway PostgreSQL server: initdb into a
// temporary directory (as the postgres user when running as root, since
// initdb refuses root), listening on a free 127.0.0.1 port with its unix
// socket in that directory, fsync on. The engine's store tests
// (engine/pgstore/pgtest) and the harness's cluster target (gates/target)
// both launch through it, each with its own Options.
//
// It is shared by both wings, so it imports only the standard library and
// internal/freeport. The binaries are Debian's postgresql-15 unless
// CREDITGATE_PG_BIN names another directory.
package pglaunch
