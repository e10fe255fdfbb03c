package freeport

import (
	"fmt"
	"net"
)

// Loopback asks the kernel for a free port on 127.0.0.1. The port is
// released before the caller binds it; the window is small and a collision
// shows up as a failed start, not as a silent mix-up.
func Loopback() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("freeport: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
