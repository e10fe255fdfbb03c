package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/creditgate/creditgate/scenarios/money"
)

// The explore judge: given the engine settings, the principals and what
// the generative workload (scenarios/explore) sent and saw, it replays the
// commands through its own reference model of SPEC §5/§6 and docs/events.md
// §5a and judges every answer — the status and code the rules predict for
// that command in the model's state, amounts and balance_after exact, the
// acting principal taken from the token — and the final reads of every
// entity. It never sees the engine's code; its input is JSON.
//
// When several refusals apply, any of them is accepted (the order of checks
// is the backend's); a decision sent within expirySlack of its request's
// deadline may meet the request pending or expired. After a divergence the
// model follows the answer (an acknowledged command is applied, a refused
// one is not), so one defect does not cascade into every later command.

// Check names of the explore judge.
const (
	CheckB47 = "B47 generated commands: every answer is what the rules predict"
	CheckB48 = "B48 generated commands: the final state equals the model"
	CheckC31 = "C31 generated decisions: the acting principal is the token's, never the body's; four-eyes holds"
	CheckC32 = "C32 generated settings: gating, risk levels, timeouts and limits follow the backend's settings"
)

// ExploreSettings are the engine settings of the run (scenarios/explore.Settings).
type ExploreSettings struct {
	ThresholdMilli  int64         `json:"threshold_milli"`
	HighMilli       int64         `json:"high_milli"`
	CriticalMilli   int64         `json:"critical_milli"`
	TimeoutMedium   time.Duration `json:"timeout_medium"`
	TimeoutHigh     time.Duration `json:"timeout_high"`
	TimeoutCritical time.Duration `json:"timeout_critical"`
	SynergieBase    int64         `json:"synergie_base_milli"`
	SynergieCap     int64         `json:"synergie_cap_milli"`
	MaxAmountMilli  int64         `json:"max_amount_milli"`
	// MissionFailRefund: the share of what a failed mission consumed its
	// fail refunds (0 in a run recorded before it was drawn: 1).
	MissionFailRefund float64 `json:"mission_fail_refund"`
}

// ExplorePrincipal is a bearer token and whom it stands for.
type ExplorePrincipal struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Token string `json:"token"`
}

// ExploreCommand is one request and its answer (scenarios/explore.Command).
type ExploreCommand struct {
	N           int             `json:"n"`
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	Body        json.RawMessage `json:"body,omitempty"`
	Key         string          `json:"key,omitempty"`
	KeyInBody   bool            `json:"key_in_body,omitempty"` // sent as the body's idempotency_key, not the header
	Token       string          `json:"token,omitempty"`
	RetryOf     int             `json:"retry_of"`
	Conflicting bool            `json:"conflicting,omitempty"`
	Final       bool            `json:"final,omitempty"`
	Note        string          `json:"note,omitempty"`
	Status      int             `json:"status"`
	Resp        json.RawMessage `json:"resp,omitempty"`
	Replayed    bool            `json:"replayed,omitempty"`
	Err         string          `json:"err,omitempty"`
	CallNs      int64           `json:"call_unix_ns"`
	ReturnNs    int64           `json:"return_unix_ns"`
	// Group: sent at once with the other commands of the same group.
	Group int `json:"group,omitempty"`
	// Fault: a fault step ("kill -9", "clean restart", "power cut",
	// "karma down|slow|up"), not a request; Skip: not injected, and why.
	Fault string `json:"fault,omitempty"`
	Skip  string `json:"skip,omitempty"`
}

// ExploreRun is the judge's input.
type ExploreRun struct {
	Seed       uint64             `json:"seed"`
	Settings   ExploreSettings    `json:"settings"`
	Principals []ExplorePrincipal `json:"principals"`
	Commands   []ExploreCommand   `json:"commands"`
	// Foreign: the run is on a backend other than our engine (SPEC §5's
	// default settings): only what the SPEC fixes is judged, not our
	// engine's codes and answer shapes where the SPEC leaves them open.
	Foreign bool `json:"foreign,omitempty"`
	// NoAuth: no command is refused for its token or role — that backend
	// serves without a token (SPEC §6's dev mode), or every command carried
	// the one token the harness was given for it (its tokens are not the
	// harness's to choose).
	NoAuth bool `json:"no_auth,omitempty"`
}

// expirySlack is how close to a deadline either answer is accepted (clock
// resolution, the expiry sweep's period is covered separately).
const expirySlack = 250 * time.Millisecond

// sweepPeriod bounds how late a backend's timer may expire a request that
// nobody decides (our engine sweeps every second).
const sweepPeriod = 2500 * time.Millisecond

type xApproval struct {
	id, agent, action, requester, level string
	amount                              int64
	required                            int
	status                              string
	version                             int
	voters                              []string
	expires                             time.Time
}

type xMission struct {
	agent              string
	consumed, refunded int64
	status             string
}

type xPool struct {
	balance, consumed, refunded int64
	members                     map[string]bool
	closed                      bool
}

type xModel struct {
	s         ExploreSettings
	tokens    map[string]ExplorePrincipal
	agents    map[string]int64
	skills    map[string]float64
	approvals map[string]*xApproval
	missions  map[string]*xMission
	pools     map[string]*xPool
	collabs   map[string]bool
	granted   map[string]int64 // synergie paid per "team/agent"
	cmds      []ExploreCommand
	done      map[string]xDone // client key → what executed under it
	unknown   map[int]int64    // commands a fault left without an answer
	lastUp    int64            // return time of the last restart (unix ns)
	// foreign: the run is on another backend (ExploreRun.Foreign):
	// refusals are judged by the status SPEC §6 gives their kind and by
	// the codes it names, and what the SPEC leaves to the backend is
	// accepted either way (see foreignRefusal, credit).
	foreign bool
	noAuth  bool // ExploreRun.NoAuth
}

// want is what the rules predict for one command.
type want struct {
	refuse []string // acceptable refusal codes; empty = must be acknowledged
	either bool     // refusal or acknowledgement both fine (a deadline in the window)
	// optional are refusals another backend may give where the SPEC
	// leaves it open (a stale expected_version, where a justification
	// sits): accepted, not required; the command then changes nothing.
	optional []string
	status   int  // exact success status, 0 = any 2xx
	identity bool // a C31 sample: the acting principal matters
	setting  bool // a C32 sample: the answer depends on a setting
	checks   func(r map[string]any) []string
	apply    func(r map[string]any) // on acknowledgement
	refused  func(code string)      // on refusal (e.g. lazy expiry)
}

func refusal(codes ...string) want { return want{refuse: codes} }

var codeStatus = map[string]int{
	"invalid": 422, "approval_required": 422, "justification_required": 422, "not_found": 404,
	"agent_exists": 409, "insufficient_credits": 409, "already_decided": 409, "version_mismatch": 409,
	"idempotency_key_conflict": 409, "conflict": 409, "duplicate_approver": 409, "refund_exceeds_consumed": 409,
	"four_eyes_violation": 403, "not_a_member": 403, "unauthorized": 401, "forbidden": 403,
}

// Verdict is the judgment of one command.
type exploreVerdict struct {
	n        int
	problems []string
	identity bool
	setting  bool
	final    bool
	fault    bool
}

// JudgeExplore judges a run: B47 (every answer), B48 (the final reads),
// C31 (identity and four-eyes) and C32 (answers that depend on a setting).
// A failing finding names the seed, the settings, the first diverging
// command and the shortest failing prefix reduced to the commands on the
// same entities.
func JudgeExplore(run ExploreRun) []Finding {
	vs := judgeExplore(run, len(run.Commands))
	var b47, b48, c31, c32 violations
	first := -1
	for _, v := range vs {
		if v.fault {
			for _, p := range v.problems {
				b47.add("#%d %s: %s", v.n, describeCmd(run.Commands[v.n]), p)
			}
			if len(v.problems) > 0 && first < 0 {
				first = v.n
			}
			continue
		}
		target := &b47
		if v.final {
			target = &b48
		}
		target.judged++
		if v.identity {
			c31.judged++
		}
		if v.setting {
			c32.judged++
		}
		for _, p := range v.problems {
			line := fmt.Sprintf("#%d %s: %s", v.n, describeCmd(run.Commands[v.n]), p)
			target.add("%s", line)
			if v.identity {
				c31.add("%s", line)
			}
			if v.setting {
				c32.add("%s", line)
			}
		}
		if len(v.problems) > 0 && first < 0 {
			first = v.n
		}
	}
	detail := fmt.Sprintf("seed %d, settings %s; %d commands, %d principals", run.Seed, settingsLine(run.Settings),
		len(run.Commands), len(run.Principals))
	if first >= 0 {
		detail += "\n" + ShrinkExplore(run, first)
	}
	mk := func(v *violations, check, unit string) Finding {
		f := v.finding(check, fmt.Sprintf("%d violations in %d %s", v.count, v.judged, unit), "0", detail)
		return f
	}
	return []Finding{mk(&b47, CheckB47, "commands"), mk(&b48, CheckB48, "final reads"),
		mk(&c31, CheckC31, "identity-bearing commands"), mk(&c32, CheckC32, "setting-dependent commands")}
}

// ShrinkExplore reports the shortest failing prefix. The judge is a pure
// function of the recorded run, so it shrinks offline, without the live
// backend: a bisection over prefix lengths finds the smallest N whose
// commands[:N] alone still fail; then the prefix is reduced to the
// commands naming the same entities (agent, request, mission, pool) as the
// failing one — the commands that led to its state — and the faults in it.
func ShrinkExplore(run ExploreRun, first int) string {
	// A prefix never ends inside a concurrent group: half a group may be
	// explained by no order.
	whole := func(n int) int {
		for n < len(run.Commands) && n > 0 && run.Commands[n].Group != 0 && run.Commands[n].Group == run.Commands[n-1].Group {
			n++
		}
		return n
	}
	failsPrefix := func(n int) bool {
		for _, v := range judgeExplore(run, whole(n)) {
			if len(v.problems) > 0 {
				return true
			}
		}
		return false
	}
	lo, hi := 1, len(run.Commands) // the smallest failing length is in [lo, hi]
	fails := failsPrefix(hi)
	for fails && lo < hi {
		mid := (lo + hi) / 2
		if failsPrefix(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if fails {
		first = whole(hi) - 1
	}
	// The entities of the failing command, closed over the earlier
	// commands that share one (a decision names its request, whose command
	// names the agent, whose consumes set the balance it decided on).
	ents := entitiesOf(run.Commands[first])
	in := map[int]bool{first: true}
	for grew := true; grew; {
		grew = false
		for i := first - 1; i >= 0; i-- {
			if in[i] {
				continue
			}
			es := entitiesOf(run.Commands[i])
			for e := range es {
				if ents[e] {
					in[i], grew = true, true
					for e2 := range es {
						ents[e2] = true
					}
					break
				}
			}
		}
	}
	var lines []string
	kept := 0
	for i := first; i >= 0; i-- {
		// The faults, and the latest commands on the same entities.
		c := run.Commands[i]
		if c.Fault != "" || in[i] && kept < maxShrinkLines {
			lines = append(lines, fmt.Sprintf("  #%d %s → %d %s", i, describeCmd(c), c.Status, short(string(c.Resp), 160)))
			if c.Fault == "" {
				kept++
			}
		}
	}
	slices.Reverse(lines)
	return fmt.Sprintf("shortest failing prefix: commands #0..#%d of %d (bisected offline over the recorded run; fails on the prefix alone: %v); the ones on the same entities, its group and the faults:\n%s",
		first, len(run.Commands), fails, strings.Join(lines, "\n"))
}

// maxShrinkLines bounds the same-entity commands a shrunk report lists.
const maxShrinkLines = 40

func short(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func settingsLine(s ExploreSettings) string {
	return fmt.Sprintf("CREDITD_APPROVAL_THRESHOLD=%s CREDITD_APPROVAL_HIGH=%s CREDITD_APPROVAL_CRITICAL=%s CREDITD_APPROVAL_TIMEOUT_MEDIUM=%s CREDITD_APPROVAL_TIMEOUT_HIGH=%s CREDITD_APPROVAL_TIMEOUT_CRITICAL=%s CREDITD_MAX_AMOUNT=%s CREDITD_SYNERGIE_BASE=%s CREDITD_SYNERGIE_CAP=%s CREDITD_MISSION_FAIL_REFUND=%g",
		money.FormatMilli(s.ThresholdMilli), money.FormatMilli(s.HighMilli), money.FormatMilli(s.CriticalMilli), s.TimeoutMedium, s.TimeoutHigh,
		s.TimeoutCritical, money.FormatMilli(s.MaxAmountMilli), money.FormatMilli(s.SynergieBase), money.FormatMilli(s.SynergieCap), s.MissionFailRefund)
}

func describeCmd(c ExploreCommand) string {
	if c.Fault != "" {
		s := "FAULT " + c.Fault
		if c.Note != "" {
			s += " [" + c.Note + "]"
		}
		if c.Skip != "" {
			s += " skipped: " + c.Skip
		}
		return s
	}
	s := c.Method + " " + c.Path
	if len(c.Body) > 0 {
		s += " " + short(string(c.Body), 200)
	}
	if c.Token != "" {
		s += " token=" + c.Token
	} else {
		s += " (no token)"
	}
	if c.Key != "" {
		s += " key=" + c.Key
		if c.KeyInBody {
			s += " (in the body, no header)"
		}
	}
	if c.RetryOf >= 0 {
		s += fmt.Sprintf(" (retry of #%d)", c.RetryOf)
	}
	if c.Note != "" {
		s += " [" + strings.TrimSpace(c.Note) + "]"
	}
	if c.Group != 0 {
		s += fmt.Sprintf(" (concurrent group %d)", c.Group)
	}
	return s
}

// entitiesOf names what a command touches: "agent:x", "approval:id", …
func entitiesOf(c ExploreCommand) map[string]bool {
	out := map[string]bool{}
	seg := strings.Split(strings.TrimPrefix(c.Path, "/api/credits/"), "/")
	switch seg[0] {
	case "balance", "history":
		if len(seg) > 1 {
			out["agent:"+seg[1]] = true
		}
	case "approvals", "missions", "pools":
		if len(seg) > 1 {
			out[seg[0]+":"+seg[1]] = true
		}
	}
	b := decodeBody(c.Body)
	for _, f := range []string{"agent_id", "refund_to"} {
		if s, ok := b[f].(string); ok {
			out["agent:"+s] = true
		}
	}
	if s, ok := b["mission_id"].(string); ok {
		out["missions:"+s] = true
	}
	if s, ok := b["pool_id"].(string); ok {
		out["pools:"+s] = true
	}
	if s, ok := b["to_pool_id"].(string); ok {
		out["pools:"+s] = true
	}
	if r := decodeBody(c.Resp); r != nil {
		if s, ok := r["request_id"].(string); ok {
			out["approvals:"+s] = true
		}
		if s, ok := r["agent_id"].(string); ok {
			out["agent:"+s] = true
		}
	}
	return out
}

func decodeBody(raw json.RawMessage) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

func judgeExplore(run ExploreRun, upTo int) []exploreVerdict {
	m := &xModel{s: run.Settings, tokens: map[string]ExplorePrincipal{}, agents: map[string]int64{}, skills: map[string]float64{},
		approvals: map[string]*xApproval{}, missions: map[string]*xMission{}, pools: map[string]*xPool{},
		collabs: map[string]bool{}, granted: map[string]int64{}, cmds: run.Commands, done: map[string]xDone{},
		unknown: unknownOutcomes(run.Commands), foreign: run.Foreign, noAuth: run.NoAuth}
	for _, p := range run.Principals {
		m.tokens[p.Token] = p
	}
	worlds := []*xModel{m}
	var out []exploreVerdict
	upTo = min(upTo, len(run.Commands))
	for i := 0; i < upTo; {
		c := run.Commands[i]
		if c.Fault != "" {
			v := exploreVerdict{n: i, fault: true}
			if c.Err != "" {
				v.problems = []string{fmt.Sprintf("the backend did not serve again after the %s: %s", c.Fault, c.Err)}
			}
			for _, w := range worlds {
				if disruptiveFault(c) {
					w.lastUp = c.ReturnNs
				}
			}
			out = append(out, v)
			i++
			continue
		}
		j := i + 1
		for c.Group != 0 && j < upTo && run.Commands[j].Group == c.Group {
			j++
		}
		members := run.Commands[i:j]
		var br branch
		worlds, br = stepGroup(worlds, members, m.unknown)
		for k, x := range members {
			out = append(out, exploreVerdict{n: x.N, identity: br.wants[k].identity, setting: br.wants[k].setting, final: x.Final,
				problems: br.problems[k]})
		}
		i = j
	}
	return out
}

// evaluate compares an answer with the prediction and moves the model.
func (m *xModel) evaluate(c ExploreCommand, w want) []string {
	r := decodeBody(c.Resp)
	code, _ := r["code"].(string)
	acked := c.Status >= 200 && c.Status < 300
	var out []string
	switch {
	case c.Status == 0 || c.Status >= 500:
		return []string{fmt.Sprintf("answered %d %s%s: the rules predict %s", c.Status, code, c.Err, w.String())}
	case acked && len(w.refuse) > 0 && !w.either:
		out = append(out, fmt.Sprintf("acknowledged %d, the rules predict a refusal (%s)", c.Status, strings.Join(w.refuse, " or ")))
	case !acked && len(w.refuse) == 0 && !m.refusedAs(w.optional, code, c.Status):
		out = append(out, fmt.Sprintf("refused %d %s (%s), the rules predict %s", c.Status, code, short(fmt.Sprint(r["detail"]), 120), w.String()))
	case !acked && len(w.refuse) > 0 && !m.refusedAs(slices.Concat(w.refuse, w.optional), code, c.Status):
		out = append(out, fmt.Sprintf("refused %d %s, the rules predict %s", c.Status, code, w.String()))
	}
	if acked {
		if w.status != 0 && c.Status != w.status && len(w.refuse) == 0 {
			out = append(out, fmt.Sprintf("answered %d, the rules predict %d", c.Status, w.status))
		}
		if w.checks != nil && (len(w.refuse) == 0 || w.either) {
			out = append(out, w.checks(r)...)
		}
		if w.apply != nil {
			w.apply(r)
		}
		if _, ok := m.done[c.Key]; !ok && c.Key != "" && c.Method != "GET" && r["duplicate"] != true {
			m.done[c.Key] = xDone{n: c.N, known: true}
		}
	} else if w.refused != nil {
		w.refused(code)
	}
	return out
}

// refusedAs reports whether a refusal (code, status) is one of the
// predicted ones: our engine's code with its status, or on another
// backend what foreignRefusal accepts.
func (m *xModel) refusedAs(codes []string, code string, status int) bool {
	for _, x := range codes {
		if x == code && codeStatus[x] == status || m.foreign && foreignRefusal(x, code, status) {
			return true
		}
	}
	return false
}

// identityOnlyDiffers reports whether two request bodies differ in the
// members naming the acting principal alone (actor_id, requester_id,
// approver_id), which a backend with tokens does not read, the body's
// idempotency_key aside.
func identityOnlyDiffers(a, b json.RawMessage) bool {
	x, y := decodeBody(a), decodeBody(b)
	for _, k := range []string{"actor_id", "requester_id", "approver_id", "idempotency_key"} {
		delete(x, k)
		delete(y, k)
	}
	return reflect.DeepEqual(x, y)
}

// specCodes are the error codes SPEC §6 names: another backend must
// answer these exactly; every other refusal it may word its own way.
var specCodes = map[string]bool{"insufficient_credits": true, "already_decided": true, "idempotency_key_conflict": true, "agent_exists": true}

// foreignRefusal reports whether another backend's refusal (code, status)
// is the predicted one (want): a code SPEC §6 names must be that code with
// its status; any other refusal must have the status SPEC §6 gives its
// kind (401/403 auth, 404 unknown entity, 409 conflict, 422 invalid field,
// or 400 for a body it cannot read), its code is the backend's.
func foreignRefusal(want, code string, status int) bool {
	if specCodes[want] {
		return code == want && status == codeStatus[want]
	}
	if specCodes[code] {
		return false // a named code for another refusal says something false
	}
	if slices.Contains(foreignStatuses[want], status) {
		return true
	}
	return status == codeStatus[want] || (status == 400 && codeStatus[want] == 422)
}

// foreignStatuses are the other statuses SPEC §6 leaves a refusal of our
// kind: a rule of the human gate is an authorization, a conflict or an
// invalid request by turns, and a stale version a failed precondition.
var foreignStatuses = map[string][]int{
	"four_eyes_violation": {403, 409, 422}, "duplicate_approver": {403, 409, 422}, "justification_required": {400, 403, 409},
	"version_mismatch": {409, 412, 422}, "approval_required": {403, 409},
}

func (w want) String() string {
	if len(w.refuse) > 0 {
		s := "a refusal " + strings.Join(w.refuse, " or ")
		if w.either {
			s += " or an acknowledgement (deadline window)"
		}
		return s
	}
	if w.status != 0 {
		return fmt.Sprintf("%d", w.status)
	}
	return "an acknowledgement (2xx)"
}

func milliField(r map[string]any, k string) (int64, bool) {
	v, err := money.FromJSON(r[k])
	return v, err == nil
}

// eq checks an exact money field of an answer.
func eq(r map[string]any, field string, want int64) []string {
	got, ok := milliField(r, field)
	if !ok {
		return []string{fmt.Sprintf("%s missing or not an exact amount (want %s)", field, money.FormatMilli(want))}
	}
	if got != want {
		return []string{fmt.Sprintf("%s = %s, the model says %s", field, money.FormatMilli(got), money.FormatMilli(want))}
	}
	return nil
}

func intField(r map[string]any, k string) (int64, bool) {
	n, ok := r[k].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

func eqMilliInt(r map[string]any, field string, want int64) []string {
	got, ok := intField(r, field)
	if !ok || got != want {
		return []string{fmt.Sprintf("%s = %v, the model says %d", field, r[field], want)}
	}
	return nil
}

// eqFold checks a string field of another backend's answer, whatever its
// case ("PENDING" is "pending").
func eqFold(r map[string]any, field, want string) []string {
	if got := fmt.Sprint(r[field]); !strings.EqualFold(got, want) {
		return []string{fmt.Sprintf("%s = %q, the model says %q", field, got, want)}
	}
	return nil
}

func eqStr(r map[string]any, field, want string) []string {
	if got := fmt.Sprint(r[field]); got != want {
		return []string{fmt.Sprintf("%s = %q, the model says %q", field, got, want)}
	}
	return nil
}

func sub(r map[string]any, k string) map[string]any {
	s, _ := r[k].(map[string]any)
	return s
}

// level is the risk level and approvers the settings give an amount.
func (m *xModel) level(amount int64) (string, int, time.Duration) {
	s := m.s
	switch {
	case amount >= s.CriticalMilli:
		return "CRITICAL", 2, s.TimeoutCritical
	case amount >= s.HighMilli:
		return "HIGH", 1, s.TimeoutHigh
	case amount >= s.ThresholdMilli:
		return "MEDIUM", 1, s.TimeoutMedium
	}
	return "LOW", 0, s.TimeoutMedium
}

// amountOf validates a request amount: 0 and invalid when refused.
func (m *xModel) amountOf(b map[string]any, field string) (int64, bool) {
	n, ok := b[field].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := money.ParseMilli(string(n))
	if err != nil || v <= 0 || v > m.s.MaxAmountMilli {
		return 0, false
	}
	return v, true
}

// nearSetting reports whether an amount sits within a few milli of a
// setting, or names one: the answer then depends on that setting.
func (m *xModel) nearSetting(b map[string]any, field string) bool {
	n, ok := b[field].(json.Number)
	if !ok {
		return false
	}
	v, err := money.ParseMilli(string(n))
	if err != nil {
		return false
	}
	for _, s := range []int64{m.s.ThresholdMilli, m.s.HighMilli, m.s.CriticalMilli, m.s.MaxAmountMilli} {
		if v >= s-2 && v <= s+2 {
			return true
		}
	}
	return v >= m.s.ThresholdMilli
}

func (m *xModel) predict(c ExploreCommand) want {
	seg := strings.Split(strings.TrimPrefix(c.Path, "/api/credits/"), "/")
	b := decodeBody(c.Body)
	if b == nil {
		b = map[string]any{}
	}
	// Authentication and roles come first.
	p, known := m.tokens[c.Token]
	if m.noAuth {
		p = ExplorePrincipal{Name: "anonymous", Role: "admin"}
	} else if c.Token == "" || !known {
		return refusal("unauthorized")
	}
	access := "read"
	if c.Method != "GET" {
		access = "mutate"
		if len(seg) == 3 && seg[0] == "approvals" && (seg[2] == "approve" || seg[2] == "reject") {
			access = "decide"
		}
	}
	switch {
	case access == "mutate" && p.Role != "operator" && p.Role != "service" && p.Role != "admin",
		access == "decide" && p.Role != "approver" && p.Role != "admin":
		return refusal("forbidden")
	}
	if c.RetryOf >= 0 && c.RetryOf < len(m.cmds) {
		// What executed under the key in this world (a repeated
		// collaboration_id wrote nothing, docs/events.md §3.3, so its key
		// holds no command: a retry is a new request).
		if d, ok := m.done[c.Key]; ok && c.Key != "" {
			if c.Conflicting {
				if m.foreign && d.known && identityOnlyDiffers(m.cmds[d.n].Body, c.Body) {
					// With tokens the body's actor names nobody (SPEC
					// §6): another backend may leave it out of the
					// body it compares and replay the original.
					w := m.replay(m.cmds[d.n])
					w.refuse, w.either = []string{"idempotency_key_conflict"}, true
					return w
				}
				return refusal("idempotency_key_conflict")
			}
			if !d.known {
				return m.replayUnknown(c, d)
			}
			return m.replay(m.cmds[d.n])
		}
		if _, ok := m.unknown[c.RetryOf]; ok {
			// The original did not execute in this world: the retry must
			// not claim to replay it.
			w := m.predictFresh(c, seg, b, p)
			inner := w.checks
			w.checks = func(r map[string]any) []string {
				var out []string
				if inner != nil {
					out = inner(r)
				}
				if c.Replayed {
					out = append(out, fmt.Sprintf("a retry of #%d replayed it, but in this order #%d had not executed", c.RetryOf, c.RetryOf))
				}
				return out
			}
			return w
		}
	}
	return m.predictFresh(c, seg, b, p)
}

// predictFresh predicts a command that executes (no earlier execution
// under its key).
func (m *xModel) predictFresh(c ExploreCommand, seg []string, b map[string]any, p ExplorePrincipal) want {
	if c.Method == "GET" {
		return m.read(c, seg)
	}
	switch seg[0] {
	case "agents":
		return m.createAgent(b)
	case "consume", "refund", "add", "withdraw":
		return m.credit(seg[0], b, p, c)
	case "approvals":
		if len(seg) == 1 {
			return m.requestApproval(b, p, c)
		}
		return m.decide(seg[1], seg[2] == "approve", b, p, c)
	case "missions":
		if len(seg) == 1 {
			return m.startMission(b)
		}
		return m.endMission(seg[1], seg[2], b)
	case "pools":
		if len(seg) == 1 {
			return m.createPool(b)
		}
		return m.poolOp(seg, b)
	case "synergie":
		return m.collaboration(b)
	}
	return want{refuse: []string{"not_found", "invalid"}, either: true}
}

// replay: a keyed retry of an acknowledged command answers the original
// (same status, same ids, marked replayed) and changes nothing.
func (m *xModel) replay(o ExploreCommand) want {
	orig := decodeBody(o.Resp)
	return want{status: o.Status, checks: func(r map[string]any) []string {
		var out []string
		for _, k := range []string{"event_id", "decision_event_id", "request_id"} {
			if v, ok := orig[k]; ok && fmt.Sprint(r[k]) != fmt.Sprint(v) {
				out = append(out, fmt.Sprintf("a retry of #%d answered %s %v, the original %v", o.N, k, r[k], v))
			}
		}
		return out
	}}
}

func (m *xModel) createAgent(b map[string]any) want {
	id, _ := b["agent_id"].(string)
	var codes []string
	n, _ := b["skill_level"].(json.Number)
	skill, err := n.Float64()
	if err != nil || skill < 0 || skill > 1 {
		codes = append(codes, "invalid")
	}
	if _, ok := m.agents[id]; ok {
		codes = append(codes, "agent_exists")
	}
	if len(codes) > 0 {
		return refusal(codes...)
	}
	initial := AgentInitialMilli(skill)
	return want{checks: func(r map[string]any) []string { return eq(r, "balance", initial) },
		apply: func(map[string]any) { m.agents[id] = initial; m.skills[id] = skill }}
}

func (m *xModel) credit(op string, b map[string]any, p ExplorePrincipal, c ExploreCommand) want {
	id, _ := b["agent_id"].(string)
	amt, valid := m.amountOf(b, "amount")
	setting := m.nearSetting(b, "amount")
	if !valid {
		w := refusal("invalid")
		w.setting = setting
		return w
	}
	if (op == "add" || op == "withdraw") && amt >= m.s.ThresholdMilli {
		w := m.openApproval(op, id, amt, "", p, c)
		w.setting = true
		return w
	}
	bal, known := m.agents[id]
	if !known {
		return refusal("not_found")
	}
	var codes []string
	delta := amt
	mid, _ := b["mission_id"].(string)
	switch op {
	case "consume", "withdraw":
		delta = -amt
		if bal < amt {
			codes = append(codes, "insufficient_credits")
		}
	case "refund":
		if ms, ok := m.missions[mid]; ok && mid != "" {
			// Another agent's mission is not this agent's to refund; when
			// the amount also exceeds what is left, either refusal is right.
			if ms.agent != id {
				codes = append(codes, "invalid")
			}
			if amt > max(ms.consumed-ms.refunded, 0) {
				codes = append(codes, "refund_exceeds_consumed")
			}
		} else if mid != "" {
			// A refund naming a mission that does not exist is 404: it
			// cannot be bounded by what the mission consumed.
			return refusal("not_found")
		} else if amt >= m.s.ThresholdMilli {
			if m.foreign {
				// SPEC §5 gates an add or a withdrawal at the threshold,
				// not a refund: another backend may refund it at once,
				// refuse it, or answer 202 with an approval request.
				return m.foreignLargeRefund(id, amt, bal, c)
			}
			codes = append(codes, "approval_required")
		}
	}
	w := want{setting: setting && op != "consume"}
	if len(codes) > 0 {
		w.refuse = codes
		return w
	}
	w.checks = func(r map[string]any) []string {
		if m.foreign && op == "withdraw" {
			return nil // SPEC §6 fixes no answer of /withdraw: the reads judge it
		}
		return append(eq(r, "amount", amt), eq(r, "balance_after", bal+delta)...)
	}
	w.apply = func(map[string]any) {
		m.agents[id] += delta
		if ms, ok := m.missions[mid]; ok && op == "refund" {
			ms.refunded += amt
		}
	}
	return w
}

// foreignLargeRefund predicts a refund without a mission at or above the
// threshold on another backend: refused (no money moves), gated (202, no
// money moves yet) or applied (its amount and balance_after exact).
func (m *xModel) foreignLargeRefund(id string, amt, bal int64, c ExploreCommand) want {
	applied := c.Status != http.StatusAccepted
	return want{setting: true, either: true, refuse: []string{"approval_required", "invalid", "forbidden"},
		checks: func(r map[string]any) []string {
			if !applied {
				return nil
			}
			return append(eq(r, "amount", amt), eq(r, "balance_after", bal+amt)...)
		},
		apply: func(map[string]any) {
			if applied {
				m.agents[id] += amt
			}
		}}
}

// foreignGated predicts an add or withdrawal at or above the threshold on
// another backend that did not answer 202: a refusal (one serving no
// approval routes cannot open a request) moves no money and is right; an
// acknowledgement moved money past the human gate (SPEC §5).
func (m *xModel) foreignGated(action string, amt int64) want {
	return want{setting: true, either: true, refuse: []string{"approval_required", "forbidden", "invalid", "not_found", "insufficient_credits"},
		checks: func(map[string]any) []string {
			return []string{fmt.Sprintf("%s of %s credits applied without a human gate: SPEC §5 wants 202 and an approval request at or above the threshold %s",
				action, money.FormatMilli(amt), money.FormatMilli(m.s.ThresholdMilli))}
		}}
}

// openApproval predicts a request for an approval: LOW is approved by the
// system and executed at once (a withdrawal only if the balance covers
// it), every other level is 202 pending with its approvers and deadline.
// The requester is the token's principal, whatever the body says.
func (m *xModel) openApproval(action, id string, amt int64, just string, p ExplorePrincipal, c ExploreCommand) want {
	bal, known := m.agents[id]
	if !known {
		return refusal("not_found")
	}
	level, required, timeout := m.level(amt)
	explicit := strings.HasSuffix(c.Path, "/approvals")
	if m.foreign && level != "LOW" && c.Status != http.StatusAccepted {
		if explicit {
			return m.foreignRefusedRequest(action, level, amt, bal, just)
		}
		return m.foreignGated(action, amt)
	}
	w := want{identity: !m.foreign, setting: true}
	if level == "LOW" {
		delta := amt
		if action == "withdraw" {
			delta = -amt
			if bal < amt {
				w.refuse = []string{"insufficient_credits"}
				if m.foreign {
					// Refused, or a request answered as not executed.
					w.either = true
					w.checks = func(r map[string]any) []string {
						if strings.EqualFold(fmt.Sprint(r["status"]), "approved") {
							return []string{fmt.Sprintf("a LOW withdrawal of %s above the balance %s answered approved", money.FormatMilli(amt), money.FormatMilli(bal))}
						}
						return nil
					}
				}
				return w
			}
		}
		if m.foreign {
			// SPEC §5: LOW is approved by the system and executed.
			w.checks = func(r map[string]any) []string { return eqFold(r, "status", "approved") }
			w.apply = func(r map[string]any) {
				m.agents[id] += delta
				if rid, _ := r["request_id"].(string); rid != "" {
					m.approvals[rid] = &xApproval{id: rid, agent: id, action: action, requester: p.Name, level: level, amount: amt, status: "approved", version: 2}
				}
			}
			return w
		}
		w.checks = func(r map[string]any) []string {
			out := append(eqStr(r, "status", "approved"), eqStr(r, "risk_level", "LOW")...)
			out = append(out, eqStr(r, "requester_id", p.Name)...)
			return append(out, eq(sub(r, "executed"), "balance_after", bal+delta)...)
		}
		w.apply = func(r map[string]any) {
			m.agents[id] += delta
			if rid, _ := r["request_id"].(string); rid != "" {
				m.approvals[rid] = &xApproval{id: rid, agent: id, action: action, requester: p.Name, level: level, amount: amt,
					status: "approved", version: 2}
			}
		}
		return w
	}
	w.status = 202
	call, ret := time.Unix(0, c.CallNs), time.Unix(0, c.ReturnNs)
	w.checks = func(r map[string]any) []string {
		if m.foreign {
			// SPEC §6 names request_id, status, risk_level and version only.
			return append(eqFold(r, "status", "pending"), eqFold(r, "risk_level", level)...)
		}
		out := append(eqStr(r, "status", "pending"), eqStr(r, "risk_level", level)...)
		out = append(out, eqStr(r, "requester_id", p.Name)...)
		out = append(out, eqMilliInt(r, "required_approvals", int64(required))...)
		if exp, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["expires_at"])); err != nil {
			out = append(out, "expires_at is not RFC 3339")
		} else if exp.Before(call.Add(timeout-time.Second)) || exp.After(ret.Add(timeout+time.Second)) {
			out = append(out, fmt.Sprintf("expires_at %s is not the %s timeout of a %s request after %s", exp.Format(time.RFC3339Nano),
				timeout, level, call.UTC().Format(time.RFC3339Nano)))
		}
		return out
	}
	w.apply = func(r map[string]any) {
		rid, _ := r["request_id"].(string)
		if rid == "" {
			return
		}
		exp, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["expires_at"]))
		if err != nil {
			exp = call.Add(timeout)
		}
		m.approvals[rid] = &xApproval{id: rid, agent: id, action: action, requester: p.Name, level: level, amount: amt,
			required: required, status: "pending", version: 1, expires: exp}
	}
	return w
}

// foreignRefusedRequest predicts an explicit approval request (POST
// /approvals) above LOW that another backend did not answer 202: it may
// refuse a withdrawal above the balance (SPEC §5 leaves open whether the
// balance is checked at the request or at the execution) and a HIGH or
// CRITICAL request without a justification (open whether the requester
// or the approver gives it); any other answer is wrong.
func (m *xModel) foreignRefusedRequest(action, level string, amt, bal int64, just string) want {
	var codes []string
	if action == "withdraw" && bal < amt {
		codes = append(codes, "insufficient_credits")
	}
	if (level == "HIGH" || level == "CRITICAL") && just == "" {
		codes = append(codes, "justification_required", "invalid")
	}
	if len(codes) == 0 {
		return want{status: http.StatusAccepted, setting: true}
	}
	return want{refuse: codes, setting: true}
}

func (m *xModel) requestApproval(b map[string]any, p ExplorePrincipal, c ExploreCommand) want {
	id, _ := b["agent_id"].(string)
	action, _ := b["action_type"].(string)
	amt, valid := m.amountOf(b, "amount")
	if action != "add" && action != "withdraw" || !valid {
		w := refusal("invalid")
		w.setting = m.nearSetting(b, "amount")
		return w
	}
	just, _ := b["justification"].(string)
	return m.openApproval(action, id, amt, just, p, c)
}

// status of a request at a time: pending, or expired once its deadline
// passed (ambiguous within expirySlack).
func (a *xApproval) at(t time.Time) (expired, ambiguous bool) {
	if a.status != "pending" || a.expires.IsZero() {
		return false, false
	}
	switch {
	case t.After(a.expires.Add(expirySlack)):
		return true, false
	case t.Before(a.expires.Add(-expirySlack)):
		return false, false
	}
	return false, true
}

func (m *xModel) decide(rid string, approve bool, b map[string]any, p ExplorePrincipal, c ExploreCommand) want {
	a, ok := m.approvals[rid]
	if !ok {
		return refusal("not_found")
	}
	expire := func(string) {
		if a.status == "pending" {
			a.status, a.version = "expired", a.version+1
		}
	}
	if a.status != "pending" {
		return refusal("already_decided")
	}
	call := time.Unix(0, c.CallNs)
	expired, ambiguous := a.at(call)
	if expired {
		w := refusal("already_decided")
		w.refused = expire
		return w
	}
	w := want{identity: true}
	switch ev, ok := intField(b, "expected_version"); {
	case ok && m.foreign:
		// Another backend numbers versions its own way (SPEC §5 names
		// the member, not how a vote moves it): any expected_version may
		// be refused as stale, none must be.
		w.optional = append(w.optional, "version_mismatch")
	case ok && ev != 0 && ev != int64(a.version):
		w.refuse = append(w.refuse, "version_mismatch")
	}
	if a.requester == p.Name {
		w.refuse = append(w.refuse, "four_eyes_violation")
	}
	if approve {
		just, _ := b["justification"].(string)
		switch {
		case (a.level == "HIGH" || a.level == "CRITICAL") && just == "" && m.foreign:
			w.optional = append(w.optional, "justification_required", "invalid") // the request may have carried it
		case (a.level == "HIGH" || a.level == "CRITICAL") && just == "":
			w.refuse = append(w.refuse, "justification_required")
		}
		for _, v := range a.voters {
			if v == p.Name {
				w.refuse = append(w.refuse, "duplicate_approver")
			}
		}
	}
	if ambiguous {
		w.either = true
		w.refuse = append(w.refuse, "already_decided")
		w.refused = func(code string) {
			if code == "already_decided" {
				expire(code)
			}
		}
	}
	if len(w.refuse) > 0 && !w.either {
		return w
	}
	v := a.version
	if m.foreign {
		return m.foreignDecision(a, w, approve, p)
	}
	switch {
	case !approve:
		w.checks = func(r map[string]any) []string {
			return append(eqStr(r, "status", "rejected"), append(eqStr(r, "decided_by", p.Name), eqMilliInt(r, "version", int64(v+1))...)...)
		}
		w.apply = func(map[string]any) { a.status, a.version = "rejected", v+1 }
	case len(a.voters)+1 < a.required:
		w.checks = func(r map[string]any) []string {
			return append(eqStr(r, "status", "pending"), append(eqStr(r, "decided_by", p.Name), eqMilliInt(r, "version", int64(v+1))...)...)
		}
		w.apply = func(map[string]any) { a.voters = append(a.voters, p.Name); a.version = v + 1 }
	default:
		bal := m.agents[a.agent]
		delta := a.amount
		if a.action == "withdraw" {
			delta = -a.amount
			if bal < a.amount {
				w.refuse = append(w.refuse, "insufficient_credits")
				if !w.either {
					return w
				}
			}
		}
		w.checks = func(r map[string]any) []string {
			out := append(eqStr(r, "status", "approved"), eqStr(r, "decided_by", p.Name)...)
			out = append(out, eqMilliInt(r, "version", int64(v+1))...)
			return append(out, eq(sub(r, "executed"), "balance_after", bal+delta)...)
		}
		w.apply = func(map[string]any) { a.status, a.version = "approved", v+1; m.agents[a.agent] += delta }
	}
	return w
}

// foreignDecision predicts a decision another backend may take (no
// refusal required before it): the answer's shape is the backend's (SPEC
// §6 names none), so the model moves as the rules say and the reads and
// the balances after it judge the backend. An approval completing a
// withdrawal above the balance may be refused (insufficient_credits) or
// acknowledged without moving money (then the request's end is the
// backend's, and a later decision on it must be refused).
func (m *xModel) foreignDecision(a *xApproval, w want, approve bool, p ExplorePrincipal) want {
	switch {
	case !approve:
		w.apply = func(map[string]any) { a.status, a.version = "rejected", a.version+1 }
	case len(a.voters)+1 < a.required:
		w.apply = func(map[string]any) { a.voters = append(a.voters, p.Name); a.version++ }
	case a.action == "withdraw" && m.agents[a.agent] < a.amount:
		w.optional = append(w.optional, "insufficient_credits")
		w.apply = func(map[string]any) { a.status, a.version = "settled", a.version+1 }
	default:
		delta := a.amount
		if a.action == "withdraw" {
			delta = -a.amount
		}
		w.apply = func(map[string]any) { a.status, a.version = "approved", a.version+1; m.agents[a.agent] += delta }
	}
	return w
}

func (m *xModel) startMission(b map[string]any) want {
	id, _ := b["mission_id"].(string)
	ag, _ := b["agent_id"].(string)
	cx, _ := b["complexity"].(string)
	typ, _ := b["mission_type"].(string)
	var codes []string
	if cx != "" && cx != "low" && cx != "medium" && cx != "high" {
		codes = append(codes, "invalid")
	}
	if _, ok := m.missions[id]; ok {
		codes = append(codes, "conflict")
	}
	bal, known := m.agents[ag]
	if !known {
		codes = append(codes, "not_found")
	}
	if len(codes) > 0 {
		return refusal(codes...)
	}
	est := MissionEstimateMilli(typ, cx, m.skills[ag])
	if bal < est {
		return refusal("insufficient_credits")
	}
	return want{checks: func(r map[string]any) []string { return eqPayload(r, "estimate_milli", est) },
		apply: func(map[string]any) {
			m.missions[id] = &xMission{agent: ag, consumed: est, status: "running"}
			m.agents[ag] -= est
		}}
}

func (m *xModel) endMission(id, op string, b map[string]any) want {
	ms, ok := m.missions[id]
	if op == "rate" {
		n, _ := b["rating"].(json.Number)
		rating, err := n.Float64()
		var codes []string
		if err != nil || rating < 0 || rating > 1 {
			codes = append(codes, "invalid")
		}
		if !ok {
			codes = append(codes, "not_found")
		}
		if len(codes) > 0 {
			return refusal(codes...)
		}
		return want{}
	}
	var actual int64
	if v, present := b["actual_cost"]; present {
		n, _ := v.(json.Number)
		a, err := money.ParseMilli(string(n))
		if err != nil || a < 0 || a > m.s.MaxAmountMilli {
			return refusal("invalid")
		}
		actual = a
	}
	if !ok {
		return refusal("not_found")
	}
	if ms.status != "running" {
		return refusal("conflict")
	}
	var refund int64
	status := map[string]string{"complete": "completed", "fail": "failed", "cancel": "cancelled"}[op]
	switch op {
	case "complete":
		refund = max(ms.consumed-actual, 0)
	case "fail":
		share := m.s.MissionFailRefund
		if share == 0 {
			share = 1
		}
		refund = int64(math.Floor(float64(ms.consumed) * share))
	default:
		refund = ms.consumed
	}
	refund = min(refund, max(ms.consumed-ms.refunded, 0))
	return want{checks: func(r map[string]any) []string {
		p := sub(r, "payload")
		if _, ok := p["refund_milli"]; !ok && refund == 0 {
			return nil // omitted when nothing is refunded
		}
		return eqMilliInt(p, "refund_milli", refund)
	},
		apply: func(map[string]any) {
			ms.status = status
			ms.refunded += refund
			m.agents[ms.agent] += refund
		}}
}

func (m *xModel) createPool(b map[string]any) want {
	id, _ := b["pool_id"].(string)
	var codes []string
	if _, ok := m.pools[id]; ok {
		codes = append(codes, "conflict")
	}
	members := map[string]bool{}
	if ms, ok := b["members"].([]any); ok {
		for _, x := range ms {
			s, _ := x.(string)
			if _, known := m.agents[s]; !known {
				codes = append(codes, "not_found")
			}
			members[s] = true
		}
	}
	if len(codes) > 0 {
		return refusal(codes...)
	}
	return want{apply: func(map[string]any) { m.pools[id] = &xPool{members: members} }}
}

func (m *xModel) poolOp(seg []string, b map[string]any) want {
	pl, ok := m.pools[seg[1]]
	op := seg[2]
	var codes []string
	amt, valid := int64(0), true
	if op == "allocate" || op == "consume" || op == "refund" || op == "transfer" {
		amt, valid = m.amountOf(b, "amount")
		if !valid {
			w := refusal("invalid")
			w.setting = m.nearSetting(b, "amount")
			return w
		}
		if op == "allocate" && amt >= m.s.ThresholdMilli {
			w := refusal("invalid")
			w.setting = true
			return w
		}
	}
	if !ok {
		return refusal("not_found")
	}
	if pl.closed {
		return refusal("conflict")
	}
	w := want{setting: op == "allocate" && m.nearSetting(b, "amount")}
	switch op {
	case "members":
		ag, _ := b["agent_id"].(string)
		remove := len(seg) == 4 // DELETE …/members/{agent_id}
		if remove {
			ag = seg[3]
		}
		if _, known := m.agents[ag]; !known {
			return refusal("not_found")
		}
		if pl.members[ag] != remove {
			return refusal("conflict")
		}
		w.apply = func(map[string]any) { pl.members[ag] = true }
		if remove {
			w.apply = func(map[string]any) { delete(pl.members, ag) }
		}
		return w
	case "allocate":
		after := pl.balance + amt
		w.checks = func(r map[string]any) []string { return eqPayload(r, "balance_after_milli", after) }
		w.apply = func(map[string]any) { pl.balance = after }
	case "refund":
		if amt > max(pl.consumed-pl.refunded, 0) {
			return refusal("refund_exceeds_consumed")
		}
		after := pl.balance + amt
		w.checks = func(r map[string]any) []string { return eqPayload(r, "balance_after_milli", after) }
		w.apply = func(map[string]any) { pl.balance = after; pl.refunded += amt }
	case "consume":
		ag, _ := b["agent_id"].(string)
		if !pl.members[ag] {
			codes = append(codes, "not_a_member")
		}
		if pl.balance < amt {
			codes = append(codes, "insufficient_credits")
		}
		if len(codes) > 0 {
			return refusal(codes...)
		}
		after := pl.balance - amt
		w.checks = func(r map[string]any) []string { return eqPayload(r, "balance_after_milli", after) }
		w.apply = func(map[string]any) { pl.balance = after; pl.consumed += amt }
	case "transfer":
		to, _ := b["to_pool_id"].(string)
		dst, ok := m.pools[to]
		switch {
		case !ok:
			codes = append(codes, "not_found")
		case dst.closed:
			codes = append(codes, "conflict")
		case to == seg[1]:
			codes = append(codes, "invalid")
		}
		if pl.balance < amt {
			codes = append(codes, "insufficient_credits")
		}
		if len(codes) > 0 {
			return refusal(codes...)
		}
		after := pl.balance - amt
		w.checks = func(r map[string]any) []string { return eqPayload(r, "balance_after_milli", after) }
		w.apply = func(map[string]any) { pl.balance = after; dst.balance += amt }
	case "close":
		to, _ := b["refund_to"].(string)
		_, known := m.agents[to]
		if pl.balance > 0 && !known {
			codes = append(codes, "invalid")
		}
		// Paying a remainder at or above the threshold to an agent would
		// bypass the human gate (docs/events.md §5a: close is bounded).
		if pl.balance >= m.s.ThresholdMilli {
			codes = append(codes, "approval_required")
			w.setting = true
		}
		if len(codes) > 0 {
			w.refuse = codes
			return w
		}
		rem := pl.balance
		w.checks = func(r map[string]any) []string { return eqPayload(r, "remainder_milli", rem) }
		w.apply = func(map[string]any) {
			pl.closed, pl.balance = true, 0
			if rem > 0 {
				m.agents[to] += rem
			}
		}
	}
	return w
}

// read predicts a read of one entity exactly.
func (m *xModel) read(c ExploreCommand, seg []string) want {
	if len(seg) < 2 {
		return want{}
	}
	id := seg[1]
	switch seg[0] {
	case "balance":
		bal, ok := m.agents[id]
		if !ok {
			return refusal("not_found")
		}
		return want{checks: func(r map[string]any) []string { return eq(r, "balance", bal) }}
	case "missions":
		ms, ok := m.missions[id]
		if !ok {
			return refusal("not_found")
		}
		return want{checks: func(r map[string]any) []string {
			out := append(eqStr(r, "status", ms.status), eq(r, "consumed", ms.consumed)...)
			return append(out, eq(r, "refunded", ms.refunded)...)
		}}
	case "pools":
		pl, ok := m.pools[id]
		if !ok {
			return refusal("not_found")
		}
		return want{checks: func(r map[string]any) []string {
			out := eq(r, "balance", pl.balance)
			if closed, _ := r["closed"].(bool); closed != pl.closed {
				out = append(out, fmt.Sprintf("closed = %v, the model says %v", closed, pl.closed))
			}
			var got, want []string
			for _, x := range asList(r["members"]) {
				got = append(got, x)
			}
			for x := range pl.members {
				want = append(want, x)
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				out = append(out, fmt.Sprintf("members = %v, the model says %v", got, want))
			}
			return out
		}}
	case "approvals":
		a, ok := m.approvals[id]
		if !ok {
			return refusal("not_found")
		}
		t := time.Unix(0, c.CallNs)
		return want{identity: true, checks: func(r map[string]any) []string {
			got := fmt.Sprint(r["status"])
			status, version := a.status, a.version
			if status == "pending" && !a.expires.IsZero() && t.After(a.expires.Add(-expirySlack)) {
				// The backend's timer expires it within its sweep period.
				// A restart delays the backend's first sweep.
				due := a.expires
				if up := time.Unix(0, m.lastUp); up.After(due) {
					due = up
				}
				if got == "expired" || (got == "pending" && t.Before(due.Add(sweepPeriod))) {
					if got == "expired" {
						a.status, a.version = "expired", a.version+1
						status, version = a.status, a.version
					}
				} else {
					return []string{fmt.Sprintf("status %q %s after its deadline, the model says expired", got, t.Sub(a.expires).Round(time.Millisecond))}
				}
			}
			if m.foreign {
				if status == "settled" {
					return nil // the backend's own end of an approval it could not execute
				}
				return eqFold(r, "status", status) // SPEC §6 fixes no more of the request's shape
			}
			out := append(eqStr(r, "status", status), eqMilliInt(r, "version", int64(version))...)
			out = append(out, eqStr(r, "requester_id", a.requester)...)
			out = append(out, eqStr(r, "risk_level", a.level)...)
			if (r["executed_event_id"] != nil) != (status == "approved") {
				out = append(out, fmt.Sprintf("executed_event_id = %v with status %s", r["executed_event_id"], status))
			}
			return out
		}}
	}
	return want{}
}

func asList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

// eqPayload checks an integer milli field of an event answer's payload; a
// zero may be omitted.
func eqPayload(r map[string]any, field string, want int64) []string {
	p := sub(r, "payload")
	if _, ok := p[field]; !ok && want == 0 {
		return nil
	}
	return eqMilliInt(p, field, want)
}

// collaboration predicts a synergie collaboration (docs/events.md §3.3):
// per distinct agent reward = floor(base × contribution × (0.5 + KARMA)),
// with the KARMA score the answer reports; paid = min(reward, cap − paid
// so far in the team), the rest capped. A repeated id writes nothing.
func (m *xModel) collaboration(b map[string]any) want {
	cid, _ := b["collaboration_id"].(string)
	team, _ := b["team_id"].(string)
	var ids []string
	seen := map[string]bool{}
	for _, x := range asList(b["agent_ids"]) {
		if !seen[x] {
			seen[x] = true
			ids = append(ids, x)
		}
	}
	scores, _ := b["contribution_scores"].(map[string]any)
	contrib := map[string]float64{}
	invalid := len(ids) < 2
	for _, a := range ids {
		n, _ := scores[a].(json.Number)
		f, err := n.Float64()
		if err != nil || f < 0 || f > 1 {
			invalid = true
		}
		contrib[a] = f
	}
	for a := range scores {
		if !seen[a] {
			invalid = true
		}
	}
	if invalid {
		return refusal("invalid")
	}
	if m.collabs[cid] {
		return want{checks: func(r map[string]any) []string {
			if r["duplicate"] != true {
				return []string{"a repeated collaboration_id was not answered duplicate: true"}
			}
			return nil
		}}
	}
	for _, a := range ids {
		if _, ok := m.agents[a]; !ok {
			return refusal("not_found")
		}
	}
	type line struct{ paid, capped int64 }
	expected := func(r map[string]any) (map[string]line, map[string]line, []string) {
		got, want := map[string]line{}, map[string]line{}
		karma := map[string]float64{}
		for _, rw := range asMapList(r["rewards"]) {
			a := fmt.Sprint(rw["agent_id"])
			v, _ := milliField(rw, "amount")
			l := got[a]
			if rw["kind"] == "capped" {
				l.capped += v
			} else {
				l.paid += v
			}
			got[a] = l
			if k, ok := rw["karma_score"].(json.Number); ok {
				karma[a], _ = k.Float64()
			}
		}
		var out []string
		for _, a := range ids {
			k, ok := karma[a]
			if !ok {
				k = 0.5 // no reward line: only a zero reward may have none
			}
			if k < 0 || k > 1 {
				out = append(out, fmt.Sprintf("karma_score %v of %s outside 0..1", k, a))
			}
			reward := RewardMilli(m.s.SynergieBase, contrib[a], k)
			room := max(m.s.SynergieCap-m.granted[team+"/"+a], 0)
			paid := min(reward, room)
			want[a] = line{paid, reward - paid}
		}
		return got, want, out
	}
	return want{checks: func(r map[string]any) []string {
		got, exp, out := expected(r)
		for a, l := range got {
			if !seen[a] {
				out = append(out, fmt.Sprintf("%s is not in agent_ids, yet a reward line names it (granted %s, capped %s): only the team is rewarded",
					a, money.FormatMilli(l.paid), money.FormatMilli(l.capped)))
			}
		}
		for _, a := range ids {
			g, w := got[a], exp[a]
			if g.paid != w.paid && !(absMilli(g.paid-w.paid) <= 1 && g.capped+g.paid == w.capped+w.paid) {
				out = append(out, fmt.Sprintf("%s granted %s, the model says %s (cap %s, team %s)", a, money.FormatMilli(g.paid),
					money.FormatMilli(w.paid), money.FormatMilli(m.s.SynergieCap), team))
			}
			if g.capped != w.capped && absMilli(g.capped-w.capped) > 1 {
				out = append(out, fmt.Sprintf("%s capped %s, the model says %s", a, money.FormatMilli(g.capped), money.FormatMilli(w.capped)))
			}
		}
		return out
	}, apply: func(r map[string]any) {
		m.collabs[cid] = true
		got, _, _ := expected(r)
		for a, l := range got {
			m.granted[team+"/"+a] += l.paid
			m.agents[a] += l.paid
		}
	}}
}

func asMapList(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
