package fault

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/gates/catalog"
)

type fakeProcess struct {
	calls    []string
	startErr error
}

func (f *fakeProcess) Kill(context.Context) error { f.calls = append(f.calls, "kill"); return nil }
func (f *fakeProcess) Stop(context.Context) error { f.calls = append(f.calls, "stop"); return nil }
func (f *fakeProcess) Start(context.Context) error {
	f.calls = append(f.calls, "start")
	return f.startErr
}

type caps map[catalog.Capability]bool

func (c caps) Has(cp catalog.Capability) (bool, string) {
	if c[cp] {
		return true, ""
	}
	return false, "no " + string(cp)
}

type fakeStub struct{ modes []karmastub.Kind }

func (s *fakeStub) SetMode(m karmastub.Mode) error { s.modes = append(s.modes, m.Kind); return nil }

func TestLastingFaultOpensOnInjectAndClosesOnHeal(t *testing.T) {
	ctx := context.Background()
	p := &fakeProcess{}
	k := &Kill{T: p}
	if _, err := k.Heal(ctx); !errors.Is(err, ErrNotInjected) {
		t.Fatalf("a heal before the injection must say so, got %v", err)
	}
	w, err := k.Inject(ctx)
	if err != nil || !w.Open() || w.Fault != "kill -9" {
		t.Fatalf("inject: %+v %v", w, err)
	}
	w2, err := k.Heal(ctx)
	if err != nil || w2.Open() || !w2.Start.Equal(w.Start) || w2.End.Before(w2.Start) {
		t.Fatalf("heal: %+v %v", w2, err)
	}
	if strings.Join(p.calls, ",") != "kill,start" {
		t.Fatalf("kill -9 must SIGKILL then start again, did %v", p.calls)
	}
	if _, err := k.Heal(ctx); !errors.Is(err, ErrNotInjected) {
		t.Fatalf("a second heal must fail, got %v", err)
	}
	// A failed restart still closes the window and says why.
	p.startErr = errors.New("boom")
	r := &Restart{T: p}
	_, _ = r.Inject(ctx)
	w3, err := r.Heal(ctx)
	if err == nil || w3.Open() || !strings.Contains(w3.Detail, "boom") {
		t.Fatalf("failed restart: %+v %v", w3, err)
	}
}

func TestKarmaModeHealsToHealthy(t *testing.T) {
	s := &fakeStub{}
	k := &KarmaMode{Stub: s, Mode: karmastub.Mode{Kind: karmastub.Hang}, Label: "hanging"}
	_, _ = k.Inject(context.Background())
	w, err := k.Heal(context.Background())
	if err != nil || w.Fault != "KARMA hanging" || len(s.modes) != 2 || s.modes[1] != karmastub.Healthy {
		t.Fatalf("%+v %v %v", w, err, s.modes)
	}
}

func TestAvailableNamesTheMissingCapability(t *testing.T) {
	all := []Fault{&Kill{}, &Restart{}, &Corruption{}, &PowerCut{}, &SyncsFail{}, &BatchSync{}, &DiskFull{}, &KarmaMode{}, &KarmaDown{},
		&LinkDelay{}, &Partition{}, &LinkCut{}, &CommitCut{}, &DatabaseDown{Mode: "immediate"}, &KillInstance{}}
	for _, f := range all {
		if ok, why := f.Available(caps{}); ok || why == "" {
			t.Errorf("%s: available with no capability (%q)", f.Name(), why)
		}
	}
	if ok, _ := (&Kill{}).Available(caps{catalog.CapCrash: true, catalog.CapRestart: true}); !ok {
		t.Error("kill -9 must be available with crash and restart")
	}
	if ok, why := (&Kill{}).Available(caps{catalog.CapCrash: true}); ok || why != "no restart" {
		t.Errorf("kill -9 without restart: %v %q", ok, why)
	}
}
