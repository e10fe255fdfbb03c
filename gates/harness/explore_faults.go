package harness

import (
	"context"
	"fmt"

	"github.com/creditgate/creditgate/chaos/karmastub"
	"github.com/creditgate/creditgate/gates/catalog"
	"github.com/creditgate/creditgate/gates/target"
	"github.com/creditgate/creditgate/scenarios/explore"
)

// exploreFaults lands the explorer's faults on the gate's target, as far
// as the target's capabilities allow: kill -9 and clean restarts need
// CapCrash/CapRestart on a single instance, a power cut the power-loss
// layer, KARMA modes the harness's stub. Everything else is
// explore.ErrUnavailable with the reason (the explorer records the step
// skipped and draws that kind no more).
type exploreFaults struct{ env *Env }

func (f exploreFaults) unavailable(cap catalog.Capability) error {
	if f.env.TCfg.Kind == target.KindCluster {
		return fmt.Errorf("%w: target cluster: restarting the instance behind one address is gate CL's fault, not the explorer's", explore.ErrUnavailable)
	}
	if ok, why := f.env.Has(cap); !ok {
		return fmt.Errorf("%w: %s", explore.ErrUnavailable, why)
	}
	return nil
}

func (f exploreFaults) Kill(ctx context.Context) error {
	if err := f.unavailable(catalog.CapCrash); err != nil {
		return err
	}
	if err := f.env.T.Kill(ctx); err != nil {
		return err
	}
	return f.env.T.Start(ctx)
}

func (f exploreFaults) Restart(ctx context.Context) error {
	if err := f.unavailable(catalog.CapRestart); err != nil {
		return err
	}
	if err := f.env.T.Stop(ctx); err != nil {
		return err
	}
	return f.env.T.Start(ctx)
}

func (f exploreFaults) PowerCut(ctx context.Context) error {
	if err := f.unavailable(catalog.CapPowerLoss); err != nil {
		return err
	}
	pc, ok := f.env.T.(target.PowerCutter)
	if !ok || !f.env.TCfg.PowerLoss {
		return fmt.Errorf("%w: target %s was not booted on the power-loss layer", explore.ErrUnavailable, f.env.TCfg.Kind)
	}
	_, err := pc.PowerCut(ctx)
	return err
}

func (f exploreFaults) Karma(ctx context.Context, m explore.KarmaMode) error {
	k := f.env.Karma
	if k == nil {
		_, why := f.env.Has(catalog.CapKarmaControl)
		return fmt.Errorf("%w: %s", explore.ErrUnavailable, why)
	}
	switch m.Kind {
	case "down":
		k.Stop()
		return nil
	case "slow":
		return k.Stub.SetMode(karmastub.Mode{Kind: karmastub.Slow, DelayMs: m.DelayMs})
	}
	if err := k.Start(); err != nil {
		return err
	}
	return k.Stub.SetMode(karmastub.Mode{Kind: karmastub.Healthy})
}
