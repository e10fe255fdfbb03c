package main

import (
	"fmt"
	"net"
	"strings"
)

// checkExposure refuses to serve without authentication on an address other
// hosts can reach: with no bearer tokens every caller is trusted and names
// itself in the request body, so such a server is safe on loopback only.
// insecure (--insecure-no-auth / CREDITD_INSECURE_NO_AUTH=true) overrides it
// for a deliberate setup (e.g. a container whose port is published on the
// host's loopback only); the caller then logs a loud warning.
func checkExposure(addr string, authenticated, insecure bool) error {
	if authenticated || insecure {
		return nil
	}
	if loopbackAddr(addr) {
		return nil
	}
	return fmt.Errorf("refusing to listen on %q without authentication: CREDITD_TOKENS is empty, so anyone who can reach "+
		"this address could move credits; listen on 127.0.0.1 or [::1], configure CREDITD_TOKENS, "+
		"or pass --insecure-no-auth (CREDITD_INSECURE_NO_AUTH=true) to accept the risk", addr)
}

// loopbackAddr reports whether a listen address binds loopback only. An
// empty host (":8000"), 0.0.0.0, [::] and any name other than localhost are
// not loopback.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
