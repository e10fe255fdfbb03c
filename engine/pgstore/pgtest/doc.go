// Package pgtest gives the engine's tests a throwaway PostgreSQL server
// (launched by internal/pglaunch: initdb into a temporary directory, a free
// loopback port, fsync on), one shared per test process, and a fresh
// database per test. Tests skip when PostgreSQL is not installed unless
// CREDITGATE_REQUIRE_PG is set.
//
// Imports only the standard library and internal/pglaunch.
package pgtest
