package engine

import (
	"context"
	"math"
	"time"

	"github.com/creditgate/creditgate/engine/event"
	"github.com/creditgate/creditgate/engine/money"
	"github.com/creditgate/creditgate/engine/projection"
)

// missionBaseMilli is the base estimate by mission type (orig).
var missionBaseMilli = map[string]int64{
	"general": 10_000, "code_review": 15_000, "deployment": 20_000, "research": 25_000, "architecture": 30_000,
}

var complexityFactor = map[string]float64{"low": 0.5, "medium": 1.0, "high": 2.0}

// MissionEstimateMilli is base(type) × complexity × (1 − 0.3 × skill),
// rounded to 0.1 credit (orig formula); unknown types use 10 credits.
func MissionEstimateMilli(missionType, complexity string, skill float64) int64 {
	base, ok := missionBaseMilli[missionType]
	if !ok {
		base = 10_000
	}
	f, ok := complexityFactor[complexity]
	if !ok {
		f = 1.0
	}
	credits := float64(base) / 1000 * f * (1 - 0.3*skill)
	return int64(math.Round(credits*10)) * 100
}

// MissionInput starts or ends a mission.
type MissionInput struct {
	MissionID   string
	AgentID     string
	MissionType string
	Complexity  string
	ActualMilli int64
	Rating      float64
}

// StartMission consumes the mission's estimate from the agent.
func (e *Engine) StartMission(ctx context.Context, req Request, in MissionInput) (Result, error) {
	if err := validID("mission_id", in.MissionID); err != nil {
		return Result{}, err
	}
	if err := validID("agent_id", in.AgentID); err != nil {
		return Result{}, err
	}
	if _, ok := complexityFactor[in.Complexity]; in.Complexity != "" && !ok {
		return Result{}, refuse(CodeInvalid, nil, `complexity must be "low", "medium" or "high"`)
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return startMissionRule(v, in, now) })
}

// startMissionRule starts a new mission and consumes its estimate from the
// agent, never overdrawing.
func startMissionRule(v View, in MissionInput, _ time.Time) (*plan, error) {
	if _, ok := v.Mission(in.MissionID); ok {
		return nil, refuse(CodeConflict, nil, "mission %q already started", in.MissionID)
	}
	if q := v.quarantined("mission", in.MissionID); q != nil {
		return nil, q
	}
	a, err := v.agent(in.AgentID)
	if err != nil {
		return nil, err
	}
	est := MissionEstimateMilli(in.MissionType, in.Complexity, a.SkillLevel)
	if a.BalanceMilli < est {
		return nil, insufficient(a, est, "needed by the mission estimate")
	}
	p := &plan{}
	m := p.add(event.MissionStarted, event.Mission{MissionID: in.MissionID, AgentID: a.ID,
		MissionType: in.MissionType, Complexity: in.Complexity, EstimateMilli: est}, nil)
	p.addCaused(event.CreditConsumed, event.Credit{AgentID: a.ID, AmountMilli: est,
		BalanceAfterMilli: a.BalanceMilli - est, Reason: "mission_start", MissionID: in.MissionID}, m, "")
	return p, nil
}

// EndMission completes, fails or cancels a running mission and refunds:
// complete → estimate − actual if positive; fail → consumed × the refund
// percentage; cancel → everything consumed.
func (e *Engine) EndMission(ctx context.Context, req Request, typ event.Type, in MissionInput) (Result, error) {
	if in.ActualMilli < 0 || in.ActualMilli > e.cfg.MaxAmountMilli {
		return Result{}, refuse(CodeInvalid, nil, "actual_cost must be within 0..%s", money.Format(e.cfg.MaxAmountMilli))
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return endMissionRule(v, in, typ, now) })
}

// endMissionRule ends a running mission (typ: completed, failed or
// cancelled) and refunds by typ, never more than the mission has left to
// refund.
func endMissionRule(v View, in MissionInput, typ event.Type, _ time.Time) (*plan, error) {
	m, ok := v.Mission(in.MissionID)
	if !ok {
		return nil, v.unknown("mission", in.MissionID)
	}
	if missionOver(m) {
		return nil, refuse(CodeConflict, nil, "mission %q is already %s", in.MissionID, m.Status)
	}
	// Money guard: a mission never refunds more than it consumed, counting
	// the refunds already made against it through POST /refund.
	refund := min(endRefund(m, typ, in.ActualMilli, v.Settings.MissionFailRefund), max(m.ConsumedMilli-m.RefundedMilli, 0))
	a, err := v.agent(m.AgentID)
	if err != nil {
		return nil, err
	}
	p := &plan{}
	p.add(typ, event.Mission{MissionID: m.MissionID, AgentID: m.AgentID, ActualMilli: in.ActualMilli, RefundMilli: refund}, nil)
	if refund > 0 {
		p.addCaused(event.CreditRefunded, event.Credit{AgentID: m.AgentID, AmountMilli: refund,
			BalanceAfterMilli: a.BalanceMilli + refund, Reason: "mission_" + typ[len("mission."):], MissionID: m.MissionID},
			-1, m.ConsumeEvent)
	}
	return p, nil
}

// missionOver reports whether a mission has ended (completed, failed or
// cancelled): it ends once, whatever its end refunded.
func missionOver(m projection.Mission) bool { return m.Status != projection.MissionRunning }

// endRefund is what an end of typ refunds of a running mission before the
// money guard: complete the estimate less the actual cost (if positive),
// fail its share of what the mission consumed, cancel all of it.
func endRefund(m projection.Mission, typ event.Type, actualMilli int64, failShare float64) int64 {
	switch typ {
	case event.MissionCompleted:
		return max(m.ConsumedMilli-actualMilli, 0)
	case event.MissionFailed:
		return int64(math.Floor(float64(m.ConsumedMilli) * failShare))
	case event.MissionCancelled:
		return m.ConsumedMilli
	}
	return 0
}

// RateMission records a mission rating in 0..1.
func (e *Engine) RateMission(ctx context.Context, req Request, in MissionInput) (Result, error) {
	if math.IsNaN(in.Rating) || in.Rating < 0 || in.Rating > 1 {
		return Result{}, refuse(CodeInvalid, nil, "rating must be within 0..1")
	}
	return e.execute(ctx, req, func(v View, now time.Time) (*plan, error) { return rateMissionRule(v, in, now) })
}

// rateMissionRule records a rating of a known mission.
func rateMissionRule(v View, in MissionInput, _ time.Time) (*plan, error) {
	m, ok := v.Mission(in.MissionID)
	if !ok {
		return nil, v.unknown("mission", in.MissionID)
	}
	p := &plan{}
	p.add(event.MissionRated, event.Mission{MissionID: m.MissionID, AgentID: m.AgentID, Rating: in.Rating}, nil)
	return p, nil
}

// Mission returns one mission.
func (e *Engine) Mission(id string) (projection.Mission, error) {
	var m projection.Mission
	var ok bool
	if err := e.read(func(st *projection.State) { m, ok = st.MissionView(id) }); err != nil {
		return m, err
	}
	if !ok {
		return m, e.unknown("mission", id)
	}
	return m, nil
}
