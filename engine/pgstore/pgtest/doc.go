// Package pgtest starts a throwaway PostgreSQL server for tests: initdb into
// a temporary directory (as the postgres user when running as root, since
// initdb refuses root), listening on a free loopback port with its unix
// socket in that directory. Tests skip when PostgreSQL is not installed
// unless CREDITGATE_REQUIRE_PG is set.
//
// Imports only the standard library and internal/freeport.
package pgtest
