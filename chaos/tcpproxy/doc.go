// Package tcpproxy is a fault-injecting TCP relay for the link between a
// creditd instance and its database: it listens on 127.0.0.1, forwards to
// one upstream address, and on command delays every chunk, blackholes the
// link (bytes are swallowed, connections stay open: a partition), refuses
// new connections, or cuts every open connection; a Trip cuts only the
// connection that sends a chunk carrying its marker, dropping that chunk
// (a fault aimed at one transaction).
//
// Faults are set through methods on *Proxy, never globals; the relay is
// safe for concurrent use. It imports only the standard library and must
// not import engine/ or gates/.
package tcpproxy
