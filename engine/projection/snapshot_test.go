package projection

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/creditgate/creditgate/engine/event"
)

// richState has something in every collection of the snapshot: a decided
// ring with a tombstone (DecidedKeep 1), an approval awaiting execution,
// votes, synergie, pools, missions, ledgers.
func richState(t *testing.T) *State {
	t.Helper()
	j := &journal{}
	st := New(Config{DecidedKeep: 1, LedgerKeep: 3})
	evs := append(base(j),
		j.ev(event.ApprovalApproved, event.Decision{RequestID: "r1", DeciderID: "bob", Justification: "ok", Version: 1}), // 9
		j.caused(event.CreditAllocated, event.Credit{AgentID: "b", AmountMilli: 600_000, BalanceAfterMilli: 600_000, Reason: "big"}, "e9"),
		j.ev(event.ApprovalRequested, event.Approval{RequestID: "r2", ActionType: "withdraw", AgentID: "a", AmountMilli: 1,
			Reason: "w", RequesterID: "carol", RiskLevel: "CRITICAL", RequiredApprovals: 2, ExpiresAt: t0.Add(time.Hour)}),
		j.ev(event.ApprovalVoteRecorded, event.Decision{RequestID: "r2", DeciderID: "dave", Justification: "first", Version: 1}),
		j.ev(event.ApprovalApproved, event.Decision{RequestID: "r2", DeciderID: "erin", Justification: "second", Version: 2}), // evicts r1
		j.ev(event.SynergieCollaborationRecorded, event.Collaboration{CollaborationID: "c1", TeamID: "t", AgentIDs: []string{"a", "b"}}),
		j.ev(event.SynergieRewardGranted, event.Reward{CollaborationID: "c1", TeamID: "t", AgentID: "a", AmountMilli: 3_000}),
		j.ev(event.SynergieRewardCapped, event.Reward{CollaborationID: "c1", TeamID: "t", AgentID: "b", AmountMilli: 4_000}),
		j.ev(event.PoolCreated, event.Pool{PoolID: "p2", Name: "pool two"}),
		j.ev(event.PoolTransferred, event.PoolMove{PoolID: "p", ToPoolID: "p2", AmountMilli: 30_000}),
		j.ev(event.CreditConsumed, event.Credit{AgentID: "a", AmountMilli: 8_000, Reason: "mission", MissionID: "m1"}),
		j.ev(event.MissionCompleted, event.Mission{MissionID: "m1", AgentID: "a", ActualMilli: 5_000, RefundMilli: 3_000}),
		j.ev(event.MissionRated, event.Mission{MissionID: "m1", Rating: 0.7}),
		j.ev(event.CreditRefunded, event.Credit{AgentID: "a", AmountMilli: 3_000, Reason: "mission refund", MissionID: "m1"}),
		j.ev(event.PoolClosed, event.Pool{PoolID: "p2", RemainderMilli: 30_000, RefundTo: "b"}),
	)
	for _, e := range evs {
		if err := st.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// The snapshot must carry every field of the projection types that are not
// themselves part of it; a new field in State or Agent fails this test
// until the snapshot carries it (or it is listed here with the reason it
// is not state).
func TestSnapshotCarriesEveryFieldOfEveryProjection(t *testing.T) {
	notState := map[string]string{
		"State.cfg": "configuration bounding the fold, not folded state",
	}
	pairs := []struct{ from, to reflect.Type }{
		{reflect.TypeFor[State](), reflect.TypeFor[Snapshot]()},
		{reflect.TypeFor[Agent](), reflect.TypeFor[AgentSnapshot]()},
		{reflect.TypeFor[Tombstone](), reflect.TypeFor[TombstoneSnapshot]()},
	}
	for _, p := range pairs {
		for i := 0; i < p.from.NumField(); i++ {
			f := p.from.Field(i)
			key := p.from.Name() + "." + f.Name
			if _, ok := notState[key]; ok {
				continue
			}
			if _, ok := p.to.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, f.Name) }); !ok {
				t.Errorf("%s is not carried by %s: add it to the snapshot (and Snapshot()), or say why it is not state", key, p.to.Name())
			}
		}
	}
	// The projection types the snapshot reuses as they are must stay
	// plain (checked below), so each of their fields is carried.
	for _, typ := range []reflect.Type{reflect.TypeFor[Approval](), reflect.TypeFor[Pool](), reflect.TypeFor[Mission](),
		reflect.TypeFor[SynergieAccount](), reflect.TypeFor[Entry](), reflect.TypeFor[Vote]()} {
		if !reaches(reflect.TypeFor[Snapshot](), typ, map[reflect.Type]bool{}) {
			t.Errorf("%s is not part of the snapshot", typ)
		}
	}
}

func reaches(from, to reflect.Type, seen map[reflect.Type]bool) bool {
	if from == to {
		return true
	}
	if seen[from] {
		return false
	}
	seen[from] = true
	switch from.Kind() {
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return reaches(from.Elem(), to, seen)
	case reflect.Map:
		return reaches(from.Key(), to, seen) || reaches(from.Elem(), to, seen)
	case reflect.Struct:
		for i := 0; i < from.NumField(); i++ {
			if reaches(from.Field(i).Type, to, seen) {
				return true
			}
		}
	}
	return false
}

// A snapshot is plain data: exported fields only (cmp.Diff and any reader
// see all of it), nothing that is not a value.
func TestSnapshotHoldsOnlyPlainData(t *testing.T) {
	var walk func(path string, typ reflect.Type, seen map[reflect.Type]bool)
	walk = func(path string, typ reflect.Type, seen map[reflect.Type]bool) {
		if seen[typ] || typ == timeType {
			return
		}
		seen[typ] = true
		switch typ.Kind() {
		case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Interface:
			t.Errorf("%s: %s is not plain data", path, typ)
		case reflect.Slice, reflect.Array, reflect.Pointer:
			walk(path+"[]", typ.Elem(), seen)
		case reflect.Map:
			walk(path+"{key}", typ.Key(), seen)
			walk(path+"{}", typ.Elem(), seen)
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if !f.IsExported() {
					t.Errorf("%s.%s is unexported: the snapshot would hide it", path, f.Name)
				}
				walk(path+"."+f.Name, f.Type, seen)
			}
		}
	}
	walk("Snapshot", reflect.TypeFor[Snapshot](), map[reflect.Type]bool{})
}

// Every leaf value of a full snapshot reaches the digest: changing any one
// of them changes it (the old hand-picked digest missed, among others, the
// requester, the risk level, the expiry, ledger reasons and pool names).
func TestEveryFieldOfTheSnapshotChangesTheDigest(t *testing.T) {
	snap := richState(t).Snapshot()
	v := reflect.ValueOf(&snap).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 {
			t.Fatalf("the rich state has no %s: the test would not cover it", v.Type().Field(i).Name)
		}
	}
	want := snapshotDigest(snap)
	leaves := 0
	var visit func(path string, v reflect.Value)
	visit = func(path string, v reflect.Value) {
		check := func(undo func()) {
			leaves++
			if snapshotDigest(snap) == want {
				t.Errorf("changing %s does not change the digest", path)
			}
			undo()
			if snapshotDigest(snap) != want {
				t.Fatalf("%s: restoring the value did not restore the digest", path)
			}
		}
		if v.Type() == timeType {
			old := v.Interface().(time.Time)
			v.Set(reflect.ValueOf(old.Add(time.Nanosecond)))
			check(func() { v.Set(reflect.ValueOf(old)) })
			return
		}
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(!v.Bool())
			check(func() { v.SetBool(!v.Bool()) })
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
			check(func() { v.SetInt(v.Int() - 1) })
		case reflect.Uint64:
			v.SetUint(v.Uint() + 1)
			check(func() { v.SetUint(v.Uint() - 1) })
		case reflect.Float64:
			old := v.Float()
			v.SetFloat(old + 0.125)
			check(func() { v.SetFloat(old) })
		case reflect.String:
			old := v.String()
			v.SetString(old + "x")
			check(func() { v.SetString(old) })
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				visit(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString("added-key")
			v.SetMapIndex(k, reflect.New(v.Type().Elem()).Elem())
			check(func() { v.SetMapIndex(k, reflect.Value{}) })
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				visit(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		default:
			t.Fatalf("%s: kind %s not covered by this test", path, v.Kind())
		}
	}
	visit("Snapshot", v)
	if leaves < 100 {
		t.Fatalf("only %d leaves visited", leaves)
	}
}

func TestSnapshotSharesNoMemoryWithTheState(t *testing.T) {
	st := richState(t)
	snap := st.Snapshot()
	snap.Pools[0].Members["intruder"] = true
	snap.Agents[0].Ledger[0].Reason = "rewritten"
	snap.Approvals[0].Votes[0].DeciderID = "mallory"
	snap.Decided[0] = "other"
	if d := cmp.Diff(richState(t).Snapshot(), st.Snapshot()); d != "" {
		t.Fatalf("changing a snapshot changed the state:\n%s", d)
	}
}

// The digest is a function of the state alone: the same journal folded
// twice gives the same digest, and the instant's zone does not matter.
func TestDigestIsDeterministic(t *testing.T) {
	a, b := richState(t), richState(t)
	if a.Digest() != b.Digest() {
		t.Fatal("two folds of the same journal have different digests")
	}
	snap := a.Snapshot()
	snap.Agents[0].CreatedAt = snap.Agents[0].CreatedAt.In(time.FixedZone("X", 3600))
	if snapshotDigest(snap) != a.Digest() {
		t.Fatal("the same instant in another zone changed the digest")
	}
}
