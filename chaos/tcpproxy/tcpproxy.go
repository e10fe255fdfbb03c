package tcpproxy

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy relays TCP connections from Addr to an upstream address.
type Proxy struct {
	ln       net.Listener
	upstream string

	delay     atomic.Int64 // ns added before forwarding each chunk
	blackhole atomic.Bool
	refuse    atomic.Bool
	armed     atomic.Bool // a trip is armed (the fast path looks here)
	tripMu    sync.Mutex
	trips     []*Trip // armed, not yet fired

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New listens on a free loopback port and relays to upstream (host:port).
func New(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listen address (127.0.0.1:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetDelay delays every forwarded chunk, both directions, by d (0 = none).
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// SetBlackhole swallows every byte in both directions while on, keeping
// connections open, as a network partition does.
func (p *Proxy) SetBlackhole(on bool) { p.blackhole.Store(on) }

// SetRefuse closes new connections as soon as they are accepted.
func (p *Proxy) SetRefuse(on bool) { p.refuse.Store(on) }

// Heal clears every fault (delay, blackhole, refuse).
func (p *Proxy) Heal() {
	p.SetDelay(0)
	p.SetBlackhole(false)
	p.SetRefuse(false)
}

// Trip is a cut aimed at one request: the first chunk a client sends
// upstream that contains Marker is dropped, unforwarded, and its connection
// is cut (both sides), so the request it carried never reaches upstream
// (on a database link: the transaction carrying it never commits).
type Trip struct {
	Marker []byte
	// Freeze silences the connection instead of cutting it: from the
	// marked chunk on nothing is forwarded either way, and the upstream
	// side stays open even after the client closes, as the server sees a
	// client frozen (SIGSTOP) inside its transaction; it ends when the
	// upstream closes it or the proxy's Cut or Close does.
	Freeze bool
	fired  chan struct{}
}

// Arm arms t (it fires once) and returns it.
func (p *Proxy) Arm(t *Trip) *Trip {
	t.fired = make(chan struct{})
	p.tripMu.Lock()
	defer p.tripMu.Unlock()
	p.trips = append(p.trips, t)
	p.armed.Store(true)
	return t
}

// Disarm removes t if it has not fired; it reports whether it had not.
func (p *Proxy) Disarm(t *Trip) bool { return p.take(func(a *Trip) bool { return a == t }) != nil }

// Fired is closed when the trip cut its connection.
func (t *Trip) Fired() <-chan struct{} { return t.fired }

// tripped fires and disarms the first armed trip whose marker is in
// chunk; nil when none is.
func (p *Proxy) tripped(chunk []byte) *Trip {
	if !p.armed.Load() {
		return nil
	}
	t := p.take(func(a *Trip) bool { return bytes.Contains(chunk, a.Marker) })
	if t != nil {
		close(t.fired)
	}
	return t
}

// take removes and returns the first armed trip match accepts.
func (p *Proxy) take(match func(*Trip) bool) *Trip {
	p.tripMu.Lock()
	defer p.tripMu.Unlock()
	for i, a := range p.trips {
		if match(a) {
			p.trips = append(p.trips[:i], p.trips[i+1:]...)
			p.armed.Store(len(p.trips) > 0)
			return a
		}
	}
	return nil
}

// Cut closes every open connection (both sides) now; it returns how many
// client connections were cut.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN: an abrupt cut
		}
		_ = c.Close()
		n++
	}
	clear(p.conns)
	return n / 2
}

// Open is how many client connections the proxy relays now (a connection
// whose client left is counted until both its directions have ended).
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}

// Close stops listening and cuts every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if p.refuse.Load() {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(client) || !p.track(up) {
		_ = client.Close()
		_ = up.Close()
		return
	}
	var wg sync.WaitGroup
	var frozen atomic.Bool // a Freeze trip fired on this connection
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(up, client, true, &frozen) }()
	go func() { defer wg.Done(); p.pipe(client, up, false, &frozen) }()
	wg.Wait()
	p.untrack(client)
	p.untrack(up)
}

// pipe copies src to dst chunk by chunk, applying the current faults, until
// either side fails; then it closes both so the other direction ends too.
// toUpstream is the client-to-upstream direction, where trips look; once
// a Freeze trip fired (frozen), nothing is forwarded and a client leaving
// does not close the upstream side.
func (p *Proxy) pipe(dst, src net.Conn, toUpstream bool, frozen *atomic.Bool) {
	defer func() {
		if toUpstream && frozen.Load() {
			_ = src.Close() // the upstream side stays open, silent
			return
		}
		_ = dst.Close()
		_ = src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && toUpstream && !frozen.Load() {
			if t := p.tripped(buf[:n]); t != nil {
				if !t.Freeze {
					return // the chunk is dropped and the connection cut
				}
				frozen.Store(true)
			}
		}
		if n > 0 && frozen.Load() {
			n = 0 // silenced
		}
		if n > 0 {
			if d := time.Duration(p.delay.Load()); d > 0 {
				time.Sleep(d)
			}
			if !p.blackhole.Load() {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil { // EOF or a cut: end both directions
			return
		}
	}
}
