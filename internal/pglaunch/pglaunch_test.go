package pglaunch

import (
	"context"
	"net"
	"os"
	"testing"
	"time"
)

func TestAServerAnswersOnItsPortAcrossACrashAndRestart(t *testing.T) {
	if err := Installed(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{NoSync: true})
	if s != nil {
		defer s.Remove()
		defer s.Stop(context.Background(), "fast")
	}
	if err != nil {
		t.Fatal(err)
	}
	dial := func() error {
		c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("started server does not answer at %s: %v", s.Addr(), err)
	}
	if err := s.Stop(ctx, "immediate"); err != nil {
		t.Fatal(err)
	}
	if dial() == nil {
		t.Fatalf("crashed server still answers at %s", s.Addr())
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("restart on the same data: %v\n%s", err, s.Log())
	}
	if err := dial(); err != nil {
		t.Fatalf("restarted server does not answer at the same port: %v", err)
	}
	if err := s.Stop(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("Remove left %s", s.Dir)
	}
}
