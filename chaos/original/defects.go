package original

import (
	"fmt"
	"sort"
	"strings"
)

// Defect is one deliberate bug the backend can be started with.
type Defect string

const (
	// FloatMoney keeps balances as float64: 0.1 + 0.2 noise shows in
	// balances (e.g. 37.199999999999996).
	FloatMoney Defect = "float-money"
	// IgnoreIdempotency ignores Idempotency-Key: every retry executes again.
	IgnoreIdempotency Defect = "ignore-idempotency"
	// MintWithoutApproval accepts adds of 10,000 credits or more.
	MintWithoutApproval Defect = "mint-without-approval"
	// ReregisterResets answers POST /agents for an existing agent with 200
	// and resets its balance to the initial credits (the original's bug).
	ReregisterResets Defect = "reregister-resets"
	// AcceptNonFinite accepts any amount that parses as a float: negative,
	// zero, 1e309 (+Inf), "NaN" strings. Money is then float64 too.
	AcceptNonFinite Defect = "accept-non-finite"
	// ApplyThen5xx applies and journals every 7th write but answers 500.
	ApplyThen5xx Defect = "apply-then-5xx"
	// DropTornSilently skips damaged journal lines at start without a word
	// and leaves a torn last line in place, so the next append is glued onto
	// it and lost at the following restart (the original's bug).
	DropTornSilently Defect = "drop-torn-silently"
	// HealthAlwaysOK answers health 200 "ok" even when the journal failed
	// or was found damaged.
	HealthAlwaysOK Defect = "health-always-ok"

	// ForgetKeysOnRestart keeps Idempotency-Keys only in a cache filled by
	// live writes and not rebuilt from the journal at start: before a
	// restart a keyed retry is replayed, after it the same retry executes
	// again (a new event, money moved twice) and a conflicting reuse is no
	// longer 409.
	ForgetKeysOnRestart Defect = "forget-keys-on-restart"
	// LazyFsync acknowledges a write once its line is written, and fsyncs
	// only every lazySyncEvery-th append (a group commit that does not wait
	// for its group): kill -9 loses nothing, a power loss loses up to
	// lazySyncEvery-1 acknowledged writes.
	LazyFsync Defect = "lazy-fsync"
	// RefundReplaySign folds credit.refunded as a debit when replaying the
	// journal at start (the replay's sign table copies the consume's): live
	// balances are right, after any restart each refund counts -2×.
	RefundReplaySign Defect = "refund-replay-sign"
	// OverdrawRace checks a consume's balance under the read lock and then
	// appends under the write lock without checking again: consumes that
	// check at the same time all pass and together overdraw the balance.
	OverdrawRace Defect = "overdraw-race"
	// TruncateExtraDecimals accepts amounts with more than 3 decimals and
	// truncates them to the milli-credit (1.0005 is applied as 1) instead
	// of refusing them with 422.
	TruncateExtraDecimals Defect = "truncate-extra-decimals"
	// SeededEventIDs draws event ids from a pseudo-random generator with a
	// fixed seed: ids are unique within one run, but every start repeats
	// the same sequence, so writes after a restart reuse event_ids already
	// in the journal.
	SeededEventIDs Defect = "seeded-event-ids"
	// UnknownBalanceZero answers GET /balance/{id} of an unknown agent with
	// 200 and balance 0 (dict.get(id, 0)) instead of 404.
	UnknownBalanceZero Defect = "unknown-balance-zero"
	// MetricsCountSinceStart reports journal.total_events in GET /metrics
	// as the events appended since this start instead of the events in the
	// journal: it reads 0 after every restart.
	MetricsCountSinceStart Defect = "metrics-count-since-start"

	// H8ThresholdExclusive gates an add (or a mission-less refund) only
	// strictly above the approval threshold (amount > 500 instead of
	// >= 500): an add of exactly 500 credits is applied directly, 200.
	H8ThresholdExclusive Defect = "h8-threshold-exclusive"
	// H8BalancesSkipEmpty lists in GET /balances only agents that have
	// credits ("active" agents): an agent drained to exactly 0 vanishes
	// from balances and from total_agents, though GET /balance/{id} still
	// answers 0.
	H8BalancesSkipEmpty Defect = "h8-balances-skip-empty"
	// H8HistoryLimitOldest pages GET /history/{id}?limit=N from the wrong
	// end: it takes the N OLDEST entries (history[:N]) and reverses them,
	// so with more entries than the limit the newest are missing. With
	// limit >= the entries the answer is right.
	H8HistoryLimitOldest Defect = "h8-history-limit-oldest"
	// H8ReplayCents parses amounts at replay the legacy way,
	// round(float(x), 2): live writes are exact, but after a restart every
	// amount with a third decimal (12.345) is folded rounded to the cent,
	// so balances and history drift from what was acknowledged.
	H8ReplayCents Defect = "h8-replay-cents"
	// H8RetryBodyAfterRestart rebuilds the Idempotency-Key cache after
	// replay from the FINAL state: a keyed retry after a restart returns
	// the original event_id but balance_after is the agent's current
	// balance, not the one the original answer carried (visible when the
	// agent was written to after the keyed write).
	H8RetryBodyAfterRestart Defect = "h8-retry-body-after-restart"
	// H8RefundNoFsync acknowledges a refund once its line is written but
	// does not fsync it ("a refund can be retried"): the next write's fsync
	// covers it, but a power loss right after an acknowledged refund loses
	// it (kill -9 does not).
	H8RefundNoFsync Defect = "h8-refund-no-fsync"

	// H10ConsumeExactBalance refuses a consume of exactly the agent's
	// balance (if amount >= balance: insufficient) with 409
	// insufficient_credits: a balance can never be drained to 0.
	H10ConsumeExactBalance Defect = "h10-consume-exact-balance"
	// H10SkillFloatTruncate computes a registration's initial credits as
	// int64(skill_level * 100 * 1000) milli-credits in float64: skill 0.29
	// gives 28.999 credits instead of 29 (0.57 gives 56.999).
	H10SkillFloatTruncate Defect = "h10-skill-float-truncate"
	// H10HistoryRefundNegative writes a refund's ledger entry with a
	// negative amount (the ledger's sign table treats everything but an
	// allocation as a debit): the balance is right, GET /history shows the
	// refund as -amount.
	H10HistoryRefundNegative Defect = "h10-history-refund-negative"
	// H10FoldClock stamps each ledger entry with the time it is folded
	// instead of its event's timestamp: live entries differ from the
	// journal by the fsync's time, and after every restart the whole
	// history carries the replay's time.
	H10FoldClock Defect = "h10-fold-clock"
	// H10CRCWarnOnly only warns about a journal line whose checksum does
	// not match when the line still parses as an event, and replays it: a
	// flipped digit in an amount is folded as other money and health says
	// ok.
	H10CRCWarnOnly Defect = "h10-crc-warn-only"
	// H10SeqFromCount continues the journal after a start at seq = number
	// of events replayed + 1 instead of the last seq + 1: after a damaged
	// line was skipped, new writes reuse the last seq, and the following
	// restart drops them as repeats (acknowledged writes lost).
	H10SeqFromCount Defect = "h10-seq-from-count"
	// H10KeyCheckRace looks a keyed write's Idempotency-Key up under the
	// read lock (so retries never queue behind the writer) and the writer
	// trusts that lookup: two requests with the same key in flight at once
	// both execute, two events, money moved twice.
	H10KeyCheckRace Defect = "h10-key-check-race"
	// H10MalformedJSON422 answers a body that is not well-formed JSON with
	// 422 validation_error (as FastAPI does) instead of 400.
	H10MalformedJSON422 Defect = "h10-malformed-json-422"

	// H12KeyPerRoute keeps Idempotency-Keys per route (the cache is keyed
	// by route + key): the same key reused on another route (a consume's
	// key sent with a refund) executes as a new write, a second event with
	// that key, instead of 409 idempotency_key_conflict. On one route the
	// key holds.
	H12KeyPerRoute Defect = "h12-key-per-route"
	// H12KeyCacheBounded keeps only the newest idemCacheCap
	// Idempotency-Keys (a bounded cache evicting the oldest, also when
	// rebuilt at start) instead of honouring keys for a retention time: a
	// keyed retry arriving after idemCacheCap other keyed writes executes
	// again (money moved twice, the key twice in the journal).
	H12KeyCacheBounded Defect = "h12-key-cache-bounded"
	// H12HistoryNegFraction formats ledger amounts as int part and fraction
	// separately (%d.%03d of m/1000 and |m%1000|): a consume below 1 credit
	// (-0.5) loses its sign in GET /history and shows +0.5. Balances and
	// larger consumes are right.
	H12HistoryNegFraction Defect = "h12-history-neg-fraction"
	// H12MaxAmountIntPart compares an amount with the configured maximum
	// by its integer part only: 1000000000.5 is accepted (a refund for a
	// mission applies it) instead of 422; 1000000001 is still refused.
	H12MaxAmountIntPart Defect = "h12-max-amount-int-part"
	// H12RegisterRace checks POST /agents for an existing agent under the
	// read lock and the write trusts that check: two registrations of one
	// new agent_id in flight at once both answer 200 and both are
	// journaled (the second resets the balance), instead of one 409
	// agent_exists. One at a time, re-registration is 409.
	H12RegisterRace Defect = "h12-register-race"
	// H12AnomalyNormNotReplayed builds the anomaly detector's per-agent
	// norm from live consumes only, not from the journal at start: after a
	// restart a consume at 10× an agent's established norm is not flagged
	// (anomaly_detected false) until normMin new consumes were seen.
	H12AnomalyNormNotReplayed Defect = "h12-anomaly-norm-not-replayed"
	// H12BalancesCents answers GET /balances with each balance rounded to
	// the cent (the original's round(balance, 2) for display): 12.345
	// shows as 12.35 there, while GET /balance/{id} says 12.345.
	H12BalancesCents Defect = "h12-balances-cents"
	// H12NaiveTimestamp stamps events the way Python's
	// datetime.utcnow().isoformat() does: microseconds and no zone
	// ("2026-12-07T03:14:41.123456"), not RFC 3339 UTC; the journal and
	// GET /history carry it.
	H12NaiveTimestamp Defect = "h12-naive-timestamp"
	// H12GapDropsNext treats the line after a destroyed journal line as the
	// bad one: its seq does not follow the last good seq, so it is
	// reported as a seq gap AND skipped, though it is intact. One damaged
	// line loses two events, one of them acknowledged and undamaged.
	H12GapDropsNext Defect = "h12-gap-drops-next"
	// H12KeyConflictAfterRestart loads Idempotency-Keys back from the
	// journal without their request hash, and a key without a hash is taken
	// for a match: after a restart the same key with a different request
	// answers 200 with the original result (Idempotent-Replayed: true)
	// instead of 409 idempotency_key_conflict. Before a restart it is 409.
	H12KeyConflictAfterRestart Defect = "h12-key-conflict-after-restart"
	// H12ReplayHeaderLiveOnly sets Idempotent-Replayed: true only for keys
	// of the live cache: a keyed retry answered from a key rebuilt from the
	// journal at start carries the original body and writes nothing, but
	// lacks the header.
	H12ReplayHeaderLiveOnly Defect = "h12-replay-header-live-only"
	// H12ReplayDropsMissionID rebuilds the ledger at start without the
	// entries' mission_id (the replay reads it from the metadata, where it
	// is not): after a restart GET /history shows mission_id null for
	// every consume and refund that named a mission.
	H12ReplayDropsMissionID Defect = "h12-replay-drops-mission-id"
	// H12OverdraftTolerance refuses a consume only when it exceeds the
	// balance by more than 0.01 credits (the original's float tolerance):
	// a consume of balance + 0.01 is applied and leaves -0.01.
	H12OverdraftTolerance Defect = "h12-overdraft-tolerance"
	// H12EmptyMissionUngated takes a refund with "mission_id": "" for a
	// mission refund: a refund of 500 credits or more naming the empty
	// mission is applied directly (200) instead of 403 approval_required.
	H12EmptyMissionUngated Defect = "h12-empty-mission-ungated"
	// H12ReplayTimestampMillis reports replay.last_replay_timestamp in GET
	// /metrics as Unix time in milliseconds instead of seconds.
	H12ReplayTimestampMillis Defect = "h12-replay-timestamp-millis"
)

// AllDefects lists every defect name, in documentation order.
var AllDefects = []Defect{FloatMoney, IgnoreIdempotency, MintWithoutApproval, ReregisterResets,
	AcceptNonFinite, ApplyThen5xx, DropTornSilently, HealthAlwaysOK,
	ForgetKeysOnRestart, LazyFsync, RefundReplaySign, OverdrawRace, TruncateExtraDecimals,
	SeededEventIDs, UnknownBalanceZero, MetricsCountSinceStart,
	H8ThresholdExclusive, H8BalancesSkipEmpty, H8HistoryLimitOldest, H8ReplayCents,
	H8RetryBodyAfterRestart, H8RefundNoFsync,
	H10ConsumeExactBalance, H10SkillFloatTruncate, H10HistoryRefundNegative, H10FoldClock,
	H10CRCWarnOnly, H10SeqFromCount, H10KeyCheckRace, H10MalformedJSON422,
	H12KeyPerRoute, H12KeyCacheBounded, H12HistoryNegFraction, H12MaxAmountIntPart,
	H12RegisterRace, H12AnomalyNormNotReplayed, H12BalancesCents, H12NaiveTimestamp,
	H12GapDropsNext, H12KeyConflictAfterRestart, H12ReplayHeaderLiveOnly, H12ReplayDropsMissionID,
	H12OverdraftTolerance, H12EmptyMissionUngated, H12ReplayTimestampMillis}

// Defects is a set of switched-on defects; the zero value is none.
type Defects map[Defect]bool

// ParseDefects reads a comma-separated list ("" or "none": no defect). An
// unknown name is an error naming the valid ones, so a typo never runs a
// correct backend where a broken one was meant.
func ParseDefects(s string) (Defects, error) {
	d := Defects{}
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return d, nil
	}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		known := false
		for _, k := range AllDefects {
			if Defect(name) == k {
				known = true
			}
		}
		if !known {
			names := make([]string, len(AllDefects))
			for i, k := range AllDefects {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("original: unknown defect %q (known: %s)", name, strings.Join(names, ", "))
		}
		d[Defect(name)] = true
	}
	return d, nil
}

// String lists the defects, sorted, comma-separated ("none" when empty).
func (d Defects) String() string {
	var names []string
	for k, on := range d {
		if on {
			names = append(names, string(k))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
