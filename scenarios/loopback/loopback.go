// Package loopback is the harness's one loopback rule: load, soak and
// chaos traffic, and the backend sampler, go only to 127.0.0.0/8, ::1 or
// localhost unless the caller explicitly allows a remote backend. It owns
// the URL check and the dial guard behind it (a name that resolves
// elsewhere is refused when dialed). It imports only the standard library,
// so every harness package may use it.
package loopback

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"time"
)

// ErrNotLoopback is returned for a URL or a dialed address outside
// 127.0.0.0/8, ::1 and localhost without allowRemote.
var ErrNotLoopback = errors.New("not a loopback address (set AllowRemote to reach a remote backend)")

// Host reports whether host is localhost or a loopback IP.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckURL refuses a URL that is not http(s), has no host, or (without
// allowRemote) names a host that is not loopback. what prefixes every
// error ("load: base URL").
func CheckURL(what, raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s %q: scheme must be http or https", what, raw)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%s %q has no host", what, raw)
	}
	if allowRemote || Host(host) {
		return nil
	}
	return fmt.Errorf("%s: %w: %q", what, ErrNotLoopback, host)
}

// Dialer is a dialer that, without allowRemote, refuses to connect to
// anything but a loopback IP, whatever a name resolved to.
func Dialer(timeout time.Duration, allowRemote bool) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowRemote {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%w: dial %s", ErrNotLoopback, address)
			}
			return nil
		}
	}
	return d
}
