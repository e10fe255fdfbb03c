package tcpproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echoServer echoes lines until the connection closes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(l)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, r *bufio.Reader, timeout time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

func TestProxyRelaysDelaysBlackholesCutsAndRefuses(t *testing.T) {
	p, err := New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if got, err := roundTrip(c, r, time.Second); err != nil || got != "ping\n" {
		t.Fatalf("relay: %q %v", got, err)
	}

	p.SetDelay(100 * time.Millisecond)
	t0 := time.Now()
	if _, err := roundTrip(c, r, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 200*time.Millisecond {
		t.Fatalf("delay 100ms each way gave a round trip of %s", d)
	}
	p.SetDelay(0)

	p.SetBlackhole(true)
	if _, err := roundTrip(c, r, 300*time.Millisecond); err == nil {
		t.Fatal("a blackholed link answered")
	}
	p.Heal()

	// The blackholed ping was swallowed; a new connection works again.
	c.Close()
	c, err = net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	r = bufio.NewReader(c)
	if _, err := roundTrip(c, r, time.Second); err != nil {
		t.Fatalf("after heal: %v", err)
	}
	// The first connection's teardown runs on its own goroutines: wait
	// for it (on a loaded machine it can still be relaying when Cut runs).
	for deadline := time.Now().Add(5 * time.Second); p.Open() > 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := p.Cut(); n != 1 {
		t.Fatalf("Cut cut %d connections, want 1", n)
	}
	if _, err := roundTrip(c, r, time.Second); err == nil {
		t.Fatal("a cut connection still relays")
	}

	p.SetRefuse(true)
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		if _, err := roundTrip(c2, bufio.NewReader(c2), time.Second); err == nil {
			t.Fatal("a refusing proxy relayed a new connection")
		}
		c2.Close()
	}
}

// A trip drops the first chunk sent upstream that carries its marker and
// cuts that connection; chunks before it and other connections pass.
func TestATripDropsTheMarkedRequestAndCutsItsConnection(t *testing.T) {
	p, err := New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	trip := p.Arm(&Trip{Marker: []byte("COMMIT-x")})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if l, err := roundTrip(c, r, 2*time.Second); err != nil || l != "ping\n" {
		t.Fatalf("an unmarked request must pass: %q %v", l, err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("INSERT; COMMIT-x\n")); err != nil {
		t.Fatal(err)
	}
	if l, err := r.ReadString('\n'); err == nil {
		t.Fatalf("the marked request reached upstream: echoed %q", l)
	}
	select {
	case <-trip.Fired():
	default:
		t.Fatal("the trip did not say it fired")
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	r2 := bufio.NewReader(c2)
	_ = c2.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c2.Write([]byte("again COMMIT-x\n")); err != nil {
		t.Fatal(err)
	}
	if l, err := r2.ReadString('\n'); err != nil || l != "again COMMIT-x\n" {
		t.Fatalf("a fired trip is disarmed: the next marked request passes, got %q %v", l, err)
	}
	if p.Disarm(trip) {
		t.Fatal("Disarm of a fired trip must say it had fired")
	}
}

// A freezing trip silences the marked connection both ways and keeps the
// upstream side open after the client leaves, as a server sees a client
// frozen inside its transaction, until Cut.
func TestAFreezingTripSilencesTheConnectionAndKeepsTheUpstreamOpen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 4)
	closed := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(closed)
				return
			}
			got <- l
		}
	}()
	p, err := New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	trip := p.Arm(&Trip{Marker: []byte("INSERT-x"), Freeze: true})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("BEGIN\n"))
	if l := <-got; l != "BEGIN\n" {
		t.Fatalf("upstream got %q", l)
	}
	c.Write([]byte("INSERT-x\n"))
	<-trip.Fired()
	c.Write([]byte("COMMIT\n"))
	c.Close()
	select {
	case l := <-got:
		t.Fatalf("a frozen connection forwarded %q", l)
	case <-closed:
		t.Fatal("the client leaving closed the frozen connection's upstream side")
	case <-time.After(300 * time.Millisecond):
	}
	p.Cut()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Cut must close the frozen upstream side")
	}
}
