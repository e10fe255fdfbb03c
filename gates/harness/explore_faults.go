package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/gates/fault"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios/explore"
)

// exploreFaults lands the explorer's faults on the gate's target through
// the one fault vocabulary (gates/fault, Env.Inject/Heal), so each is a
// window in the client history like every suite's: kill -9 and clean
// restarts on a single instance, a power cut on the power-loss layer,
// KARMA modes on the harness's stub. What the target cannot take is
// explore.ErrUnavailable with the reason (the explorer records the step
// skipped and draws that kind no more).
type exploreFaults struct {
	env   *Env
	karma fault.Lasting // the KARMA fault in effect, healed by mode "up"
}

// available refuses a fault the target cannot take, with the reason.
func (f *exploreFaults) available(ft fault.Fault) error {
	if f.env.TCfg.Kind == target.KindCluster {
		return fmt.Errorf("%w: target cluster: restarting the instance behind one address is gate CL's fault, not the explorer's", explore.ErrUnavailable)
	}
	if ok, why := ft.Available(f.env); !ok {
		return fmt.Errorf("%w: %s", explore.ErrUnavailable, why)
	}
	return nil
}

// bracket injects a lasting fault and heals it at once (kill -9 then
// start, stop then start): the window spans the outage.
func (f *exploreFaults) bracket(ctx context.Context, ft fault.Lasting) error {
	if err := f.available(ft); err != nil {
		return err
	}
	if _, err := f.env.Inject(ctx, ft); err != nil {
		return err
	}
	_, err := f.env.Heal(ctx, ft)
	return err
}

func (f *exploreFaults) Kill(ctx context.Context) error {
	return f.bracket(ctx, &fault.Kill{T: f.env.T})
}

func (f *exploreFaults) Restart(ctx context.Context) error {
	return f.bracket(ctx, &fault.Restart{T: f.env.T})
}

func (f *exploreFaults) PowerCut(ctx context.Context) error {
	pc, ok := f.env.T.(target.PowerCutter)
	if !ok || f.env.TCfg.PowerLoss != target.PowerLossOn {
		return fmt.Errorf("%w: target %s was not booted on the power-loss layer", explore.ErrUnavailable, f.env.TCfg.Kind)
	}
	ft := &fault.PowerCut{PC: pc}
	if err := f.available(ft); err != nil {
		return err
	}
	_, err := f.env.Inject(ctx, ft)
	return err
}

// TrapBatch arms a trap on the power-loss layer (fault.BatchSync): the
// sync of the batch holding marker is held and, with fail, fails with
// every later one; end heals it (after the hold; with fail, a power cut
// and a start on the same data).
func (f *exploreFaults) TrapBatch(ctx context.Context, marker string, hold time.Duration, fail bool) (<-chan struct{}, func(context.Context) error, error) {
	pc, ok := f.env.T.(target.PowerCutter)
	if !ok || f.env.TCfg.PowerLoss != target.PowerLossOn {
		return nil, nil, fmt.Errorf("%w: target %s was not booted on the power-loss layer", explore.ErrUnavailable, f.env.TCfg.Kind)
	}
	ft := &fault.BatchSync{PC: pc, Marker: marker, Hold: hold, Fail: fail}
	if err := f.available(ft); err != nil {
		return nil, nil, err
	}
	if _, err := f.env.Inject(ctx, ft); err != nil {
		return nil, nil, err
	}
	return ft.Caught(), func(ctx context.Context) error {
		_, err := f.env.Heal(ctx, ft)
		return err
	}, nil
}

// Karma switches the stub: "down" stops it, "slow" delays every score,
// anything else heals whichever KARMA fault is in effect.
func (f *exploreFaults) Karma(ctx context.Context, m explore.KarmaMode) error {
	k := f.env.Karma
	if k == nil {
		return fmt.Errorf("%w: the harness runs no KARMA stub for this target", explore.ErrUnavailable)
	}
	var err error
	if f.karma != nil { // one KARMA fault at a time: end the last first
		_, err = f.env.Heal(ctx, f.karma)
		f.karma = nil
	}
	var ft fault.Lasting
	switch m.Kind {
	case "down":
		ft = &fault.KarmaDown{K: k}
	case "slow":
		ft = &fault.KarmaMode{Stub: k.Stub, Mode: karmastub.Mode{Kind: karmastub.Slow, DelayMs: m.DelayMs}, Label: "slow"}
	default:
		return err
	}
	if aerr := f.available(ft); aerr != nil {
		return errors.Join(err, aerr)
	}
	if _, ierr := f.env.Inject(ctx, ft); ierr != nil {
		return errors.Join(err, ierr)
	}
	f.karma = ft
	return err
}
