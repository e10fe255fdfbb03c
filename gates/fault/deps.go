package fault

import (
	"context"
	"strconv"
	"time"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/chaos/tcpproxy"
	"github.com/creditgate/creditgate/gates/catalog"
)

// ModeSetter switches a KARMA stub's failure mode (karmastub.Server).
type ModeSetter interface {
	SetMode(karmastub.Mode) error
}

// KarmaMode puts the KARMA stub in a failure mode (hanging, erroring,
// slow, …); Heal makes it healthy again. Label names the mode in the
// window ("" = the mode's kind).
type KarmaMode struct {
	Stub  ModeSetter
	Mode  karmastub.Mode
	Label string
	s     span
}

func (k *KarmaMode) Name() string {
	if k.Label != "" {
		return "KARMA " + k.Label
	}
	return "KARMA " + string(k.Mode.Kind)
}

func (k *KarmaMode) Available(c Caps) (bool, string) { return needs(c, catalog.CapKarmaControl) }

func (k *KarmaMode) Inject(ctx context.Context) (Window, error) {
	k.s.open(k.Name())
	if err := k.Stub.SetMode(k.Mode); err != nil {
		return k.s.opened(""), errorf(k.Name(), "switching the stub to %s: %v", k.Mode.Kind, err)
	}
	return k.s.opened("mode " + string(k.Mode.Kind)), nil
}

func (k *KarmaMode) Heal(ctx context.Context) (Window, error) {
	if err := k.s.injected(); err != nil {
		return Window{}, err
	}
	if err := k.Stub.SetMode(karmastub.Mode{Kind: karmastub.Healthy}); err != nil {
		return Window{}, errorf(k.Name(), "switching the stub back to healthy: %v", err)
	}
	return k.s.close("healthy again")
}

// Switch is a dependency that can be taken down and brought back on the
// same address (gates/harness.Karma).
type Switch interface {
	Stop()
	Start() error
}

// KarmaDown stops the KARMA stub's listener (connection refused); Heal
// serves again on the same address.
type KarmaDown struct {
	K Switch
	s span
}

func (k *KarmaDown) Name() string { return "KARMA stopped (connection refused)" }

func (k *KarmaDown) Available(c Caps) (bool, string) { return needs(c, catalog.CapKarmaControl) }

func (k *KarmaDown) Inject(ctx context.Context) (Window, error) {
	k.s.open(k.Name())
	k.K.Stop()
	return k.s.opened("listener closed"), nil
}

func (k *KarmaDown) Heal(ctx context.Context) (Window, error) {
	if err := k.s.injected(); err != nil {
		return Window{}, err
	}
	if err := k.K.Start(); err != nil {
		return Window{}, errorf(k.Name(), "serving again: %v", err)
	}
	return k.s.close("serving again")
}

// LinkDelay delays every chunk on a proxied link (chaos/tcpproxy, e.g.
// creditd ↔ PostgreSQL); Heal removes the delay.
type LinkDelay struct {
	P     *tcpproxy.Proxy
	Delay time.Duration
	s     span
}

func (l *LinkDelay) Name() string { return "link delay " + l.Delay.String() }

func (l *LinkDelay) Available(c Caps) (bool, string) { return needs(c, catalog.CapCluster) }

func (l *LinkDelay) Inject(ctx context.Context) (Window, error) {
	l.s.open(l.Name())
	l.P.SetDelay(l.Delay)
	return l.s.opened(l.Delay.String() + " per chunk"), nil
}

func (l *LinkDelay) Heal(ctx context.Context) (Window, error) {
	if err := l.s.injected(); err != nil {
		return Window{}, err
	}
	l.P.SetDelay(0)
	return l.s.close("no delay")
}

// Partition blackholes a proxied link: bytes are swallowed, connections
// stay half-open. Heal restores the link and cuts the connections the
// partition left half-open.
type Partition struct {
	P *tcpproxy.Proxy
	s span
}

func (p *Partition) Name() string { return "partition" }

func (p *Partition) Available(c Caps) (bool, string) { return needs(c, catalog.CapCluster) }

func (p *Partition) Inject(ctx context.Context) (Window, error) {
	p.s.open(p.Name())
	p.P.SetBlackhole(true)
	return p.s.opened("link blackholed"), nil
}

func (p *Partition) Heal(ctx context.Context) (Window, error) {
	if err := p.s.injected(); err != nil {
		return Window{}, err
	}
	p.P.Heal()
	n := p.P.Cut() // drop the connections the partition left half-open
	return p.s.close("healed, " + strconv.Itoa(n) + " half-open connection(s) cut")
}

// LinkCut closes every connection on a proxied link at once; new ones
// may connect. Cuts counts the connections the last Inject closed.
type LinkCut struct {
	P    *tcpproxy.Proxy
	Cuts int
}

func (l *LinkCut) Name() string { return "link cut" }

func (l *LinkCut) Available(c Caps) (bool, string) { return needs(c, catalog.CapCluster) }

func (l *LinkCut) Inject(ctx context.Context) (Window, error) {
	start := time.Now()
	l.Cuts = l.P.Cut()
	return instant(l.Name(), start, strconv.Itoa(l.Cuts)+" connection(s) cut"), nil
}

// Database is a target's database under control (target.Cluster).
type Database interface {
	StopDatabase(ctx context.Context, mode string) error
	StartDatabase(ctx context.Context) error
}

// DatabaseDown stops the database ("immediate": a crash; "fast": a clean
// stop); Heal starts it again on the same data and port.
type DatabaseDown struct {
	DB   Database
	Mode string
	s    span
}

func (d *DatabaseDown) Name() string {
	if d.Mode == "immediate" {
		return "database crash"
	}
	return "database stop"
}

func (d *DatabaseDown) Available(c Caps) (bool, string) { return needs(c, catalog.CapCluster) }

func (d *DatabaseDown) Inject(ctx context.Context) (Window, error) {
	d.s.open(d.Name())
	if err := d.DB.StopDatabase(ctx, d.Mode); err != nil {
		return d.s.opened(""), errorf(d.Name(), "%v", err)
	}
	return d.s.opened("stopped (" + d.Mode + ")"), nil
}

func (d *DatabaseDown) Heal(ctx context.Context) (Window, error) {
	if err := d.s.injected(); err != nil {
		return Window{}, err
	}
	if err := d.DB.StartDatabase(ctx); err != nil {
		w, _ := d.s.close("start failed: " + err.Error())
		return w, errorf(d.Name(), "start: %v", err)
	}
	return d.s.close("started again")
}

// Instances is a target whose instances can be killed one at a time
// (target.Cluster).
type Instances interface {
	KillInstance(ctx context.Context, i int) error
	StartInstance(ctx context.Context, i int) error
}

// KillInstance is kill -9 of one instance of a cluster: in effect until
// Heal has started it again (same port, same database).
type KillInstance struct {
	C Instances
	I int
	s span
}

func (k *KillInstance) Name() string { return "kill -9 of instance " + strconv.Itoa(k.I) }

func (k *KillInstance) Available(c Caps) (bool, string) { return needs(c, catalog.CapCluster) }

func (k *KillInstance) Inject(ctx context.Context) (Window, error) {
	k.s.open(k.Name())
	if err := k.C.KillInstance(ctx, k.I); err != nil {
		return k.s.opened(""), errorf(k.Name(), "%v", err)
	}
	return k.s.opened("SIGKILL"), nil
}

func (k *KillInstance) Heal(ctx context.Context) (Window, error) {
	if err := k.s.injected(); err != nil {
		return Window{}, err
	}
	if err := k.C.StartInstance(ctx, k.I); err != nil {
		w, _ := k.s.close("restart failed: " + err.Error())
		return w, errorf(k.Name(), "restart: %v", err)
	}
	return k.s.close("restarted")
}

// CommitCut is a cut aimed at one commit on a proxied link (chaos/tcpproxy
// trip): the first chunk the instance sends that carries Marker (a value
// only one command's events hold, e.g. a reason) is dropped and its
// connection cut, so the transaction carrying it never commits. With
// Freeze the connection goes silent instead, its server side left open:
// the database sees the instance frozen inside its transaction, holding
// what it locked. Heal disarms it if it has not fired and ends a freeze
// (every connection of the link is cut); Fired says when it fired.
type CommitCut struct {
	P      *tcpproxy.Proxy
	Marker string
	Freeze bool
	trip   *tcpproxy.Trip
	s      span
}

func (c *CommitCut) Name() string {
	if c.Freeze {
		return "commit frozen"
	}
	return "commit cut"
}

func (c *CommitCut) Available(cp Caps) (bool, string) { return needs(cp, catalog.CapCluster) }

func (c *CommitCut) Inject(ctx context.Context) (Window, error) {
	c.s.open(c.Name())
	c.trip = c.P.Arm(&tcpproxy.Trip{Marker: []byte(c.Marker), Freeze: c.Freeze})
	if c.Freeze {
		return c.s.opened("the connection sending " + strconv.Quote(c.Marker) + " goes silent, its server side open"), nil
	}
	return c.s.opened("the chunk carrying " + strconv.Quote(c.Marker) + " is dropped and its connection cut"), nil
}

// Fired is closed when the marked chunk was dropped.
func (c *CommitCut) Fired() <-chan struct{} { return c.trip.Fired() }

func (c *CommitCut) Heal(ctx context.Context) (Window, error) {
	if err := c.s.injected(); err != nil {
		return Window{}, err
	}
	if c.P.Disarm(c.trip) {
		return c.s.close("never fired: no chunk carried the marker")
	}
	if c.Freeze {
		return c.s.close("fired; " + strconv.Itoa(c.P.Cut()) + " connection(s) cut to end the freeze")
	}
	return c.s.close("fired")
}
