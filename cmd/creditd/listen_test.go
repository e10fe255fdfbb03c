package main

import "testing"

// Issue 9, defect 4: without tokens creditd listened on 0.0.0.0 / [::] after
// a mere warning. Without auth only loopback addresses are accepted, unless
// the operator explicitly overrides.
func TestWithoutTokensOnlyLoopbackAddressesAreServed(t *testing.T) {
	for addr, loopback := range map[string]bool{
		"127.0.0.1:8000": true, "127.0.0.2:1": true, "[::1]:8000": true, "localhost:8000": true,
		"0.0.0.0:8000": false, "[::]:8000": false, ":8000": false, "192.168.1.10:8000": false,
		"example.com:8000": false, "[::ffff:10.0.0.1]:80": false, "garbage": false,
	} {
		err := checkExposure(addr, false, false)
		if (err == nil) != loopback {
			t.Errorf("checkExposure(%q, no tokens) = %v, want allowed=%v", addr, err, loopback)
		}
		if err := checkExposure(addr, true, false); err != nil {
			t.Errorf("checkExposure(%q, with tokens) = %v, want allowed", addr, err)
		}
		if err := checkExposure(addr, false, true); err != nil {
			t.Errorf("checkExposure(%q, --insecure-no-auth) = %v, want allowed", addr, err)
		}
	}
}
