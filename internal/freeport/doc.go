// Package freeport picks a free TCP port on 127.0.0.1 for a server the
// caller is about to start: a backend, PostgreSQL, the KARMA stub.
//
// It is shared by both wings (the engine's test helpers and the harness),
// so it imports only the standard library.
package freeport
