package main

import "testing"

func TestLoopbackOnlyRefusesEveryOtherAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8000": true, "[::1]:8000": true, "localhost:8000": true, "127.0.0.2:1": true,
		"0.0.0.0:8000": false, ":8000": false, "10.0.0.1:8000": false, "example.com:80": false, "8000": false,
	} {
		if err := loopbackOnly(addr); (err == nil) != ok {
			t.Errorf("loopbackOnly(%q) = %v, want allowed=%v", addr, err, ok)
		}
	}
}
