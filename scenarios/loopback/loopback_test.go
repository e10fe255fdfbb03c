package loopback

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestOnlyLoopbackURLsPassWithoutAllowRemote(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8000", "http://127.8.9.10", "https://localhost:1", "http://[::1]:80"} {
		if err := CheckURL("test URL", u, false); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1", "http://example.com", "http://192.0.2.1:80"} {
		if err := CheckURL("test URL", u, false); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: %v, want ErrNotLoopback", u, err)
		}
		if err := CheckURL("test URL", u, true); err != nil {
			t.Errorf("%s with allowRemote: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://127.0.0.1", "http://", "::"} {
		if CheckURL("test URL", u, true) == nil {
			t.Errorf("%s: accepted", u)
		}
	}
}

func TestTheDialerRefusesAnAddressThatIsNotLoopback(t *testing.T) {
	d := Dialer(200*time.Millisecond, false)
	if _, err := d.Dial("tcp", "192.0.2.1:80"); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("dial TEST-NET: %v, want ErrNotLoopback", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial loopback: %v", err)
	}
	c.Close()
}
