package specbackend

import (
	"fmt"
	"sort"
	"strings"
)

// Defect names one deliberate bug that can be switched on in this backend, so the harness
// can be judged on whether it notices. Each defect is a realistic mistake an engineer
// could write, breaks exactly one promise of SPEC.md, and shows only at a boundary.
// With no defect switched on (the zero Defects), the backend behaves as documented in
// doc.go.
type Defect string

const (
	// DefectIdemConcurrentDuplicate: a keyed command is remembered under its
	// idempotency key only once it is durable ("only keys that made it to disk"), so
	// while the first request with a key waits for its group commit, a concurrent
	// duplicate with the same key is decided and journaled again. Sequential retries are
	// still replayed correctly. Breaks SPEC §3: concurrent duplicates (same key in flight
	// twice) resolve to one event.
	DefectIdemConcurrentDuplicate Defect = "idem-concurrent-duplicate"

	// DefectRecoverySilentDuplicate: at recovery, a line that is a byte-for-byte copy of
	// the line before it is taken for a writer double-write and dropped from the journal
	// quietly: not quarantined, not reported, health stays "ok", strict mode starts.
	// Breaks SPEC §3: a repeat in seq is a media fault that is quarantined and reported
	// (strict refuses to start); never silently skip.
	DefectRecoverySilentDuplicate Defect = "recovery-silent-duplicate"

	// DefectRecoveryNewlineTail: at recovery, a last line that lacks only its trailing
	// newline but passes its checksum is kept as a complete event instead of being cut
	// as a torn tail, and the missing newline is not restored: the next append is glued
	// onto that line (and is lost or quarantined at the next start). Breaks SPEC §3: a
	// torn tail (last line incomplete) is cut off into a sidecar and appends continue on
	// a clean line.
	DefectRecoveryNewlineTail Defect = "recovery-newline-tail"

	// DefectFourEyesFirstVote: the four-eyes check runs only for the decision that
	// completes a request, so the requester of a CRITICAL request may cast its first
	// approval vote; one other approver then completes it. MEDIUM and HIGH (one approver)
	// are unaffected. Breaks SPEC §5: the requester may not approve their own request
	// (CRITICAL: 2 distinct approvers other than the requester).
	DefectFourEyesFirstVote Defect = "four-eyes-first-vote"

	// DefectMissionFailZeroPercent: failing a mission with refund_percentage 0 is taken
	// as "no percentage given" and refunds the default share (100%). Breaks SPEC §5:
	// fail refunds consumed × refund percentage.
	DefectMissionFailZeroPercent Defect = "mission-fail-zero-percent"

	// DefectSynergieCapOvershoot: the per-agent-per-team cap is checked against what
	// the agent earned before the reward, not after, so the reward that crosses the cap
	// is paid in full (no reward_capped for it); only later rewards are capped. Breaks
	// SPEC §5: each agent earns at most synergie.cap per team.
	DefectSynergieCapOvershoot Defect = "synergie-cap-overshoot"

	// DefectAnomalyRatioExclusive: the ratio rule of the anomaly detector compares with
	// > instead of >=, so an amount of exactly 10× the agent's running mean (with a
	// constant norm, where the z-score rule cannot fire) is not flagged. Breaks SPEC §5 /
	// §8 scenario 5: a consume at 10× the norm (≥ 10× the running mean) is flagged.
	DefectAnomalyRatioExclusive Defect = "anomaly-ratio-exclusive"

	// DefectHistoryRingBoundary: when GET /history pages past the in-memory ledger ring
	// into the journal, the walk starts at the oldest in-memory entry itself instead of
	// its predecessor: that entry is listed twice and the oldest entry of the ledger is
	// missing. Only agents with more ledger entries than the ring (256) are affected.
	// Breaks SPEC §4/§6: the ledger lists every entry once, newest first, paged.
	DefectHistoryRingBoundary Defect = "history-ring-boundary"

	// DefectH7PoolFormerMemberConsume: the pool membership check of consume asks whether
	// the agent was ever added to the pool (the member history) instead of whether it is a
	// member now, so an agent removed from a pool can still consume from it. Agents never
	// added are still refused (403 not_a_member). Breaks SPEC §5: pool consume is by
	// members only. Shows only after a member has been removed (second membership change
	// on the same pool and agent).
	DefectH7PoolFormerMemberConsume Defect = "h7-pool-former-member-consume"

	// DefectH7MissionZeroRefundReopen: the "mission already finished" guard tests whether
	// the mission has been refunded instead of its status, so a mission completed with
	// actual_cost >= its estimate (end refund 0) can still be cancelled or failed, which
	// refunds the estimate a second time around. Breaks SPEC §5: complete refunds
	// estimate − actual only if positive (a finished mission is not refunded again).
	// Shows only for a mission whose completion refunded nothing, on a second end call.
	DefectH7MissionZeroRefundReopen Defect = "h7-mission-zero-refund-reopen"

	// DefectH7CollabDedupLostOnRestart: the collaboration_id dedup index of the decision
	// state is filled by live requests only and is not rebuilt by the replay at start, so
	// after a restart a duplicate collaboration_id (sent without, or with another,
	// idempotency key) is recorded and paid again. Before a restart duplicates are
	// replayed correctly. Breaks SPEC §5: a duplicate collaboration_id is idempotent.
	DefectH7CollabDedupLostOnRestart Defect = "h7-collab-dedup-lost-on-restart"

	// DefectH7ApprovalRejectNotFinal: the "already decided" guard of approve/reject was
	// written as "approved or expired", so a rejected request can still be decided: a
	// later approve executes the gated action (and a later reject is journaled again).
	// Breaks SPEC §5: the first terminal decision wins; every later decision gets 409
	// already_decided. Shows only once a request has been rejected.
	DefectH7ApprovalRejectNotFinal Defect = "h7-approval-reject-not-final"

	// DefectH7EventsIndexRoundUp: GET /events finds its starting line through the sparse
	// offset index (one entry per 8 seq) but rounds after_seq up to the next index entry
	// instead of down, so when after_seq is not a multiple of 8 the events from
	// after_seq+1 up to the next multiple of 8 are silently missing from the page.
	// after_seq=0 and multiples of 8 are served correctly. Breaks SPEC §6: GET
	// /events?after_seq=N serves the journal after N, in seq order (every event).
	DefectH7EventsIndexRoundUp Defect = "h7-events-index-round-up"

	// DefectH9CriticalBoundExclusive: the CRITICAL risk level is chosen with "amount >
	// critical threshold" instead of ">=", so a request of exactly 50,000 credits is
	// HIGH (one approver) instead of CRITICAL (two distinct approvers). Other amounts are
	// levelled correctly. Breaks SPEC §5: CRITICAL from 50,000 credits, 2 distinct
	// approvers.
	DefectH9CriticalBoundExclusive Defect = "h9-critical-bound-exclusive"

	// DefectH9WithdrawApprovalNoRecheck: an approved withdrawal executes without checking
	// the agent's balance again ("it was checked when the request was made"), so money
	// consumed while the request was pending lets the withdrawal overdraw: the balance
	// goes negative. Breaks SPEC §4/§5: balances never negative; withdraw never
	// overdraws (checked again when the approval executes).
	DefectH9WithdrawApprovalNoRecheck Defect = "h9-withdraw-approval-no-recheck"

	// DefectH9KeyIndexReusedAtStart: at start, an existing on-disk key index file is
	// reused as is instead of being rebuilt from the journal (a start-up shortcut). The
	// file only holds keys that were moved out of memory by a later command, so the last
	// keyed commands before a restart or kill -9 are forgotten: their retry executes
	// again. Breaks SPEC §3: keys survive restarts (rebuilt from the journal).
	DefectH9KeyIndexReusedAtStart Defect = "h9-key-index-reused-at-start"

	// DefectH9AmountExponentDecimals: the "at most 3 decimal places" rule counts the
	// digits after the '.' of the literal text, and the value is then truncated to the
	// milli-credit, so an amount in exponent notation with more than 3 decimals by value
	// (12345e-4 = 1.2345) is accepted and silently truncated (1.234). Breaks SPEC §1:
	// more than 3 decimals is 422.
	DefectH9AmountExponentDecimals Defect = "h9-amount-exponent-decimals"

	// DefectH9SynergieTeamDupAgents: the "at least 2 agents" check of a collaboration
	// counts agent_ids before de-duplicating them, so a team of one agent listed twice
	// (["a","a"]) is recorded and rewarded instead of refused. Breaks SPEC §5: a team of
	// fewer than 2 distinct agents is 422.
	DefectH9SynergieTeamDupAgents Defect = "h9-synergie-team-dup-agents"

	// DefectH9ServiceRoleDecides: the decision routes admit the service role besides
	// approver and admin ("service accounts may do everything operators do and more"), so
	// a service token can approve or reject approval requests. Breaks SPEC §6: decisions
	// need approver/admin; 403 otherwise.
	DefectH9ServiceRoleDecides Defect = "h9-service-role-decides"

	// DefectH9MissionEstimateTruncated: the mission estimate is truncated to 0.1 credits
	// instead of rounded, so an estimate with a hundredths digit >= 5 (general, low,
	// skill 0.7: 3.95) is one tenth too low (3.9 instead of 4.0). Breaks SPEC §5: the
	// estimate is rounded to 0.1.
	DefectH9MissionEstimateTruncated Defect = "h9-mission-estimate-truncated"

	// DefectH11IdemKeyIgnoresRoute: the idempotency fingerprint of a request is computed
	// over its body and principal only, not over the route (command), so a key first used
	// on one route and then reused on another with the same body (POST /consume then POST
	// /refund, same key, same {agent_id, amount}) is answered as a replay of the first
	// command (200, Idempotent-Replayed: true, the consume's event) instead of 409.
	// Breaks SPEC §3: the same key with a different request is 409
	// idempotency_key_conflict.
	DefectH11IdemKeyIgnoresRoute Defect = "h11-idem-key-ignores-route"

	// DefectH11AmountMaxExclusive: the amount bound is checked with ">= maximum" instead
	// of "> maximum", so an amount of exactly the configured maximum (1,000,000,000
	// credits by default) is refused with 422. Breaks SPEC §1: amounts above a configured
	// maximum are rejected (the maximum itself is valid).
	DefectH11AmountMaxExclusive Defect = "h11-amount-max-exclusive"

	// DefectH11IfMatchIgnored: a decision honours only the body's expected_version; the
	// If-Match header is not read, so a decision sent with a stale If-Match version is
	// applied instead of refused with 409. Breaks SPEC §5: decisions use optimistic
	// concurrency (the request's version; If-Match / expected_version).
	DefectH11IfMatchIgnored Defect = "h11-if-match-ignored"

	// DefectH11AuditOmitsExpired: the audit listing takes "decided" for "approved or
	// rejected by someone", so requests that expired (decision event approval.expired)
	// are missing from GET /approvals/audit. Breaks SPEC §5: the audit endpoint lists
	// every request with its decision event ids.
	DefectH11AuditOmitsExpired Defect = "h11-audit-omits-expired"

	// DefectH11KarmaOpenSkipsCache: while the KARMA circuit breaker is open, the score
	// short-circuits to the default CI 0.5 ("fallback") without looking at the cache, so
	// an agent with a cached live score gets 0.5 during a blackout. Breaks SPEC §5: on
	// KARMA outage the engine falls back to the cached score, else the default CI = 0.5.
	DefectH11KarmaOpenSkipsCache Defect = "h11-karma-open-skips-cache"

	// DefectH11RefundLedgerNoMission: the ledger entry of a credit.refunded event is
	// folded without its mission_id (the refund's ledger row is built like a plain
	// refund), so GET /history shows mission refunds with mission_id null while the event
	// carries it. Breaks SPEC §4/§6: ledger entries carry event_id, timestamp, amount,
	// balance_after, reason, mission_id.
	DefectH11RefundLedgerNoMission Defect = "h11-refund-ledger-no-mission"

	// DefectH11RecoverySeqGapAccepted: at recovery only a repeat or a step back of seq is
	// taken for corruption; a forward gap (a whole line missing in the middle) is
	// accepted silently: no quarantine entry, health stays "ok", strict mode starts.
	// Breaks SPEC §3: a gap in seq is a media fault, quarantined and reported (strict
	// refuses to start); never silently skip.
	DefectH11RecoverySeqGapAccepted Defect = "h11-recovery-seq-gap-accepted"

	// DefectH11ExpiryTimerOnly: a decision does not check the request's expiry itself
	// and relies on the expiry timer (ticking every second) to have expired it, so a
	// decision that arrives after expires_at but before the next tick is applied (an
	// approve executes the action). Breaks SPEC §5: expiry is applied by the engine and
	// lazily on access; §8 gate C: expired requests cannot be decided.
	DefectH11ExpiryTimerOnly Defect = "h11-expiry-timer-only"

	// DefectH13ApprovalExecCausationRequest: the credit event that executes an approved
	// request (credit.allocated / credit.withdrawn with approval_id) gets the
	// approval.requested event as its causation_id instead of the approval.approved event
	// ("the allocation was caused by the request"). The causation still names an earlier
	// event. LOW auto-approvals are unaffected. Breaks SPEC §2: an approval's executed
	// allocation points at the approval.approved event; §5: approval executes the gated
	// action exactly once (causation = the approval event).
	DefectH13ApprovalExecCausationRequest Defect = "h13-approval-exec-causation-request"

	// DefectH13SynergieCapAcrossTeams: the synergie cap is checked against what the agent
	// earned from synergie in every team together instead of in the collaboration's team,
	// so an agent that reached the cap in one team is capped (paid 0, reward_capped) in a
	// second team too. Breaks SPEC §5: each agent earns at most synergie.cap from synergie
	// per team.
	DefectH13SynergieCapAcrossTeams Defect = "h13-synergie-cap-across-teams"

	// DefectH13MissionUnknownTypeRefused: starting a mission with a mission_type outside the
	// five known ones is refused with 422 (invalid mission_type) instead of costing the
	// unknown-type base of 10. Breaks SPEC §5: base by type ... unknown 10.
	DefectH13MissionUnknownTypeRefused Defect = "h13-mission-unknown-type-refused"

	// DefectH13AnomalyGlobalNorm: the anomaly detector judges a consume against the running
	// statistics of all agents' consumes together instead of the agent's own, so an agent
	// whose usual amounts are large is flagged while others consume small amounts (and a
	// 10x outlier of a small agent is missed while others consume large amounts). Breaks
	// SPEC §5: per-agent online statistics over consume amounts; an amount far from the
	// agent's norm is flagged.
	DefectH13AnomalyGlobalNorm Defect = "h13-anomaly-global-norm"

	// DefectH13ReplayStatus200: a keyed retry is answered with status 200 whatever the
	// first answer's status was, so the retry of a gated add / withdraw / approval request
	// (first 202) or of a pool or mission creation (first 201) gets 200 with the original
	// body. Breaks SPEC §3: a retry with the same key returns the original result.
	DefectH13ReplayStatus200 Defect = "h13-replay-status-200"

	// DefectH13BodyKeyMoneyOnly: the idempotency_key body member is honoured only on the
	// original's money routes (consume, refund, add, withdraw); every other mutating route
	// (agents, approvals and decisions, synergie, pools, missions) accepts the member and
	// ignores it, so a retry keyed in the body executes again. Header keys work everywhere.
	// Breaks SPEC §3: every mutating request may carry a client key (Idempotency-Key
	// header, or idempotency_key in the body); a retry returns the original result and
	// writes nothing.
	DefectH13BodyKeyMoneyOnly Defect = "h13-body-key-money-only"

	// DefectH13TornTailNoSidecar: recovery cuts a torn tail off the journal (and reports a
	// sidecar name in the recovery report) but never writes the sidecar file, so the torn
	// bytes are gone. Breaks SPEC §3: a torn tail is cut off, kept in a sidecar file
	// (credits.jsonl.torn-<time>).
	DefectH13TornTailNoSidecar Defect = "h13-torn-tail-no-sidecar"

	// DefectH13RecoveryLineZeroBased: recovery counts journal lines from 0, so every line
	// number it reports (quarantine file entries, GET /journal/verify, the torn tail, the
	// strict-mode error) is one less than the line's real (1-based) number. Breaks SPEC §3:
	// bad lines are moved to the quarantine file with line number and reason; strict
	// refuses to start with an error naming file, line and reason.
	DefectH13RecoveryLineZeroBased Defect = "h13-recovery-line-zero-based"

	// DefectH13HistoryTotalRing: GET /history reports total_entries as the number of ledger
	// entries held in memory (at most the ring of 256) instead of the agent's whole ledger,
	// so an agent with more than 256 entries shows total_entries 256. Paging still returns
	// every entry. Breaks SPEC §6: GET /history returns total_entries (every entry of the
	// agent's ledger, SPEC §4).
	DefectH13HistoryTotalRing Defect = "h13-history-total-ring"

	// DefectH13BodyTooLarge400: a request body above the size limit is answered 400
	// malformed_json (the truncated read is taken for bad JSON) instead of 413. Breaks SPEC
	// §6: 413 body too large.
	DefectH13BodyTooLarge400 Defect = "h13-body-too-large-400"

	// DefectH13ExpiryRearmedAtStart: at start, every approval request that is still pending
	// gets its expiry deadline re-armed to start time + its timeout ("restore the timers"),
	// so a request whose expires_at passed while the backend was down, or passes later,
	// stays pending and can be approved (the action executes) until the re-armed deadline.
	// expires_at in the answers still shows the original deadline. Breaks SPEC §5 / §8 gate
	// C: expiry is applied by the engine and lazily on access; expired requests cannot be
	// decided.
	DefectH13ExpiryRearmedAtStart Defect = "h13-expiry-rearmed-at-start"

	// DefectH13ReadyzIgnoresJournal: readiness (/readyz, /api/credits/health/ready) checks
	// only for shutdown, not for a failed journal, so after a write or sync error (every
	// append refused with 503, health "failed") the backend still reports itself ready.
	// Breaks SPEC §3/§6: after a failed write the journal refuses every append and health
	// reports the journal as failed (readiness included).
	DefectH13ReadyzIgnoresJournal Defect = "h13-readyz-ignores-journal"

	// DefectH13HistoryPoolAllocSign: when GET /history pages past the in-memory ring into the
	// journal, a pool allocation taken from the agent (pool.allocated with from_agent_id) is
	// listed with a positive amount (the sign is lost when the entry is rebuilt from the
	// event); the in-memory page shows it negative. Breaks SPEC §6: history amounts are
	// signed (debits negative); §4: the ledger is the entity's signed entries.
	DefectH13HistoryPoolAllocSign Defect = "h13-history-pool-alloc-sign"

	// DefectH13KeyHashIgnoresReason: the idempotency fingerprint of a money request
	// (consume, refund, add, withdraw) covers agent_id, amount and mission_id but not the
	// free-text reason, so the same key sent again with another reason is answered as a
	// replay of the first request (200, Idempotent-Replayed: true) instead of 409. Breaks
	// SPEC §3: the same key with a different request is 409 idempotency_key_conflict.
	DefectH13KeyHashIgnoresReason Defect = "h13-key-hash-ignores-reason"

	// DefectH13PendingListOmitsVoted: GET /approvals?status=pending (and /approvals/pending)
	// leaves out requests that already hold an approval vote, so a CRITICAL request after
	// its first of two approvals is missing from the pending list although it is still
	// pending (GET /approvals/{id} says so). Breaks SPEC §6: GET /approvals?status=pending
	// lists the pending requests.
	DefectH13PendingListOmitsVoted Defect = "h13-pending-list-omits-voted"

	// DefectH13MissionOverrunCharged: completing a mission with an actual_cost above its
	// estimate charges the agent the difference (a credit.consumed naming the mission, when
	// the balance allows it) instead of only refunding when estimate - actual is positive.
	// Breaks SPEC §5: complete refunds estimate - actual if positive (and nothing else).
	DefectH13MissionOverrunCharged Defect = "h13-mission-overrun-charged"

	// DefectH13WithdrawUnknownAgent409: withdraw looks the balance up with a zero default
	// before checking that the agent exists, so a withdrawal from an unknown agent is 409
	// insufficient_credits (balance 0) instead of 404. Consume, refund and add still answer
	// 404. Breaks SPEC §5/§6: unknown agent is 404 (404 unknown entity).
	DefectH13WithdrawUnknownAgent409 Defect = "h13-withdraw-unknown-agent-409"

	// DefectH13InsufficientNoBalance: the 409 insufficient_credits body carries the agent's
	// balance under "available" instead of "balance" (the detail text still says it), so a
	// client reading the balance from the body finds none. Breaks SPEC §5: insufficient
	// balance is 409 insufficient_credits with the balance in the body.
	DefectH13InsufficientNoBalance Defect = "h13-insufficient-no-balance"

	// DefectH13HistoryFractionZeros: GET /history renders amount and balance_after with a
	// hand-written signed formatter that drops the leading zeros of the fraction, so 1.05
	// is shown as 1.5 and -0.005 as -0.5 (values whose milli part is 1..99). Balances and
	// every other route are right. Breaks SPEC §1/§6: credits are exact; history amounts
	// are JSON numbers in credits.
	DefectH13HistoryFractionZeros Defect = "h13-history-fraction-zeros"

	// DefectH13CreditsHealthIgnoresRecovery: the original's health route GET
	// /api/credits/health keeps answering status "ok" after recovery quarantined lines (a
	// media fault); only GET /api/health reports "degraded". Breaks SPEC §3: corruption in
	// the middle is quarantined, the engine starts and reports it (health degraded).
	DefectH13CreditsHealthIgnoresRecovery Defect = "h13-credits-health-ignores-recovery"

	// DefectH14TornCommandKeptInPart: at recovery, a torn last line that ends a command of
	// several events is cut alone; the command's complete lines before it stay and are
	// replayed (an approval approved but never executed, a mission started without its
	// debit). Breaks SPEC §3: a torn tail is an unacknowledged write, cut off — the
	// command's write, not a line of it.
	DefectH14TornCommandKeptInPart Defect = "h14-torn-command-kept-in-part"

	// DefectH14AmountFloatTruncation: an amount is validated exactly (at most 3 decimals,
	// by value) but then converted to milli-credits through float64 and truncated,
	// int64(f * 1000), so values whose binary float lies just below the decimal lose one
	// milli-credit (1.005 -> 1.004, 2.002 -> 2.001; about 0.6% of 2- or 3-decimal
	// amounts); 12.5 or 8.2 are exact.
	// Breaks SPEC §1: credits are exact; no floats in state, events' money fields or
	// arithmetic.
	DefectH14AmountFloatTruncation Defect = "h14-amount-float-truncation"

	// DefectH14ReplayHeaderMemoryOnly: the Idempotent-Replayed header is set only when a
	// keyed retry is answered from the in-memory table of in-flight keys; a retry answered
	// through the on-disk key index (every key once a later command has run, and after a
	// restart) gets the original body and event_id but no header. Breaks SPEC §3: a retry
	// with the same key returns the original result (same event_id, header
	// Idempotent-Replayed: true).
	DefectH14ReplayHeaderMemoryOnly Defect = "h14-replay-header-memory-only"

	// DefectH14HighNoJustification: the "justification required" check of an approving
	// decision is applied to CRITICAL requests only, so a HIGH request (5,000 up to 50,000
	// credits) requested without justification is approved and executed by one approver
	// without any. Breaks SPEC §5: HIGH 1 approver + justification.
	DefectH14HighNoJustification Defect = "h14-high-no-justification"

	// DefectH14PoolAllocateNoOverdraftCheck: a pool allocation taken from an agent
	// (from_agent_id) does not check the agent's balance ("allocate grants credits"), so
	// moving more than the agent has into a pool drives the agent's balance negative.
	// Breaks SPEC §4: balances never negative; §5 pools: no overdraft.
	DefectH14PoolAllocateNoOverdraftCheck Defect = "h14-pool-allocate-no-overdraft-check"

	// DefectH14MissionRefundCauseLostOnRestart: the id of a mission's consumption is kept
	// for the decision state by live starts only and not rebuilt by the replay at start, so
	// a mission started before a restart and ended after it refunds with causation_id null
	// (and its end event without consume_event_id). Breaks SPEC §2: a mission refund
	// points at the mission's consumption (causation set on every derived event).
	DefectH14MissionRefundCauseLostOnRestart Defect = "h14-mission-refund-cause-lost-on-restart"

	// DefectH14EoCAnomalyAsError: the EoC monitor counts a flagged (anomalous) consume as an
	// error too ("anomalous ops are bad ops"), so anomalies alone raise the error rate: the
	// score drops by up to 0.40 instead of 0.15 (below the safe band under heavy anomaly
	// injection) and advisory backpressure rises. Breaks SPEC §5: under anomaly chaos the
	// score stays in 0.3-0.7; anomalies alone never cause throttling.
	DefectH14EoCAnomalyAsError Defect = "h14-eoc-anomaly-as-error"

	// DefectH14QuarantineFileTruncated: recovery writes the quarantine file afresh
	// (truncate) instead of appending to it, so the lines quarantined at an earlier start,
	// and the seq-gap records that let later starts accept a known gap, are lost when a
	// later start quarantines again. Breaks SPEC §3: bad lines are moved to
	// credits.jsonl.quarantine with line number and reason (kept, never silently lost).
	DefectH14QuarantineFileTruncated Defect = "h14-quarantine-file-truncated"

	// DefectH14MetricsReplayTsMillis: GET /api/credits/metrics reports
	// replay.last_replay_timestamp in Unix milliseconds instead of seconds. Breaks SPEC §6:
	// last_replay_timestamp (Unix time in seconds, a number, or null).
	DefectH14MetricsReplayTsMillis Defect = "h14-metrics-replay-ts-millis"

	// DefectH14IdemKeyCaseInsensitive: idempotency keys are looked up case-insensitively
	// ("normalise the header value"), so two different client keys that differ only in
	// letter case are taken for the same key: the second request is answered as a replay
	// of the first (same body) or 409 idempotency_key_conflict (other body) instead of
	// being executed. The journal keeps the key as sent. Breaks SPEC §3: only a retry with
	// the same key returns the original result; a new key is a new request.
	DefectH14IdemKeyCaseInsensitive Defect = "h14-idem-key-case-insensitive"

	// DefectH14BalancesOmitZero: GET /balances lists only agents with a non-zero balance
	// ("active accounts"), and total_agents counts only those, so an agent created with
	// skill_level 0 or consumed down to exactly 0 is missing. Breaks SPEC §6: GET /balances
	// returns balances {id: number} and total_agents (every agent).
	DefectH14BalancesOmitZero Defect = "h14-balances-omit-zero"

	// DefectH14SynergieCappedRaw: the synergie projection adds a reward_capped event's
	// raw_reward_milli (the whole reward) instead of its amount_milli (the unpaid part) to
	// the agent's capped total, so GET /synergie/{agent_id} over-reports the capped part
	// whenever a reward was partly paid. Paid amounts and the cap itself are right.
	// Breaks SPEC §4/§5: synergie per agent and team, rewards granted and capped (the part
	// above the cap).
	DefectH14SynergieCappedRaw Defect = "h14-synergie-capped-raw"

	// DefectH14UnknownFieldsSecondaryIgnored: the strict body decoder (unknown members
	// refused) is used on the original's routes only (agents, consume, refund, add); every
	// other mutating route (withdraw, approvals, decisions, synergie, pools, missions)
	// silently ignores unknown members, e.g. a misspelt "expected_verison" or
	// "refund_percent". Breaks SPEC §6: unknown JSON fields are rejected (422).
	DefectH14UnknownFieldsSecondaryIgnored Defect = "h14-unknown-fields-secondary-ignored"

	// DefectH14HistoryLimitOldest: GET /history with a limit below the number of in-memory
	// ledger entries returns the oldest limit entries (newest first among them) instead of
	// the newest, as if the chronological list were cut before being reversed. A limit
	// covering the whole ledger is right. Breaks SPEC §4/§6: the ledger newest first,
	// paged.
	DefectH14HistoryLimitOldest Defect = "h14-history-limit-oldest"

	// DefectH14MissionCompleteUnroundedEstimate: completing a mission refunds the unrounded
	// estimate (base x complexity x (1 - 0.3 x skill), to the milli-credit) minus the actual
	// cost instead of the consumed estimate (rounded to 0.1) minus the actual cost, so
	// code_review/low with skill 1.0 (5.25, consumed 5.3) completed at actual 1 refunds
	// 4.25 instead of 4.3 (and an unrounded estimate above the rounded one can exceed what
	// was consumed: 409). Round estimates are unaffected. Breaks SPEC §5: complete refunds
	// estimate - actual if positive.
	DefectH14MissionCompleteUnroundedEstimate Defect = "h14-mission-complete-unrounded-estimate"

	// DefectH14KarmaFreshCacheLive: a score reused from the fresh cache (younger than 10 s,
	// KARMA not asked) is recorded with karma_source "live" instead of "cache". Breaks SPEC
	// §5: the engine caches scores and records karma_source (live|cache|fallback) in the
	// event's metadata.
	DefectH14KarmaFreshCacheLive Defect = "h14-karma-fresh-cache-live"

	// DefectH14KarmaRecoveryNeedsTraffic: while the KARMA breaker is open the background
	// health probe's successes are ignored (only a real score request may close it), so
	// after a blackout KARMA status and health stay down/degraded until a credit operation
	// asks KARMA again; with no traffic they never recover. Breaks SPEC §5: health shows
	// KARMA degraded during a blackout and recovers by itself.
	DefectH14KarmaRecoveryNeedsTraffic Defect = "h14-karma-recovery-needs-traffic"

	// DefectH15CollabIDPerTeam: a recorded collaboration is remembered under its team and
	// id, so the same collaboration_id sent again naming another team_id is recorded and
	// paid a second time (a repeat in the same team is still a duplicate). Breaks SPEC §5:
	// a duplicate collaboration_id is idempotent.
	DefectH15CollabIDPerTeam Defect = "h15-collab-id-per-team"

	// DefectH15SynergieEarnedAtArrival: what an agent already earned in a team is read
	// from the durable read model when the collaboration arrives, not from the state the
	// command is decided on, so collaborations in flight together each see the same
	// earnings and each pays up to the cap: 40 at once paid 750 against a cap of 500.
	// One at a time nothing changes. Breaks SPEC §5: each agent earns at most
	// synergie.cap per team.
	DefectH15SynergieEarnedAtArrival Defect = "h15-synergie-earned-at-arrival"
)

// AllDefects lists every defect, in the order of the constants above.
var AllDefects = []Defect{
	DefectIdemConcurrentDuplicate,
	DefectRecoverySilentDuplicate,
	DefectRecoveryNewlineTail,
	DefectFourEyesFirstVote,
	DefectMissionFailZeroPercent,
	DefectSynergieCapOvershoot,
	DefectAnomalyRatioExclusive,
	DefectHistoryRingBoundary,
	DefectH7PoolFormerMemberConsume,
	DefectH7MissionZeroRefundReopen,
	DefectH7CollabDedupLostOnRestart,
	DefectH7ApprovalRejectNotFinal,
	DefectH7EventsIndexRoundUp,
	DefectH9CriticalBoundExclusive,
	DefectH9WithdrawApprovalNoRecheck,
	DefectH9KeyIndexReusedAtStart,
	DefectH9AmountExponentDecimals,
	DefectH9SynergieTeamDupAgents,
	DefectH9ServiceRoleDecides,
	DefectH9MissionEstimateTruncated,
	DefectH11IdemKeyIgnoresRoute,
	DefectH11AmountMaxExclusive,
	DefectH11IfMatchIgnored,
	DefectH11AuditOmitsExpired,
	DefectH11KarmaOpenSkipsCache,
	DefectH11RefundLedgerNoMission,
	DefectH11RecoverySeqGapAccepted,
	DefectH11ExpiryTimerOnly,
	DefectH13ApprovalExecCausationRequest,
	DefectH13SynergieCapAcrossTeams,
	DefectH13MissionUnknownTypeRefused,
	DefectH13AnomalyGlobalNorm,
	DefectH13ReplayStatus200,
	DefectH13BodyKeyMoneyOnly,
	DefectH13TornTailNoSidecar,
	DefectH13RecoveryLineZeroBased,
	DefectH13HistoryTotalRing,
	DefectH13BodyTooLarge400,
	DefectH13ExpiryRearmedAtStart,
	DefectH13ReadyzIgnoresJournal,
	DefectH13HistoryPoolAllocSign,
	DefectH13KeyHashIgnoresReason,
	DefectH13PendingListOmitsVoted,
	DefectH13MissionOverrunCharged,
	DefectH13WithdrawUnknownAgent409,
	DefectH13InsufficientNoBalance,
	DefectH13HistoryFractionZeros,
	DefectH13CreditsHealthIgnoresRecovery,
	DefectH14TornCommandKeptInPart,
	DefectH14AmountFloatTruncation,
	DefectH14ReplayHeaderMemoryOnly,
	DefectH14HighNoJustification,
	DefectH14PoolAllocateNoOverdraftCheck,
	DefectH14MissionRefundCauseLostOnRestart,
	DefectH14EoCAnomalyAsError,
	DefectH14QuarantineFileTruncated,
	DefectH14MetricsReplayTsMillis,
	DefectH14IdemKeyCaseInsensitive,
	DefectH14BalancesOmitZero,
	DefectH14SynergieCappedRaw,
	DefectH14UnknownFieldsSecondaryIgnored,
	DefectH14HistoryLimitOldest,
	DefectH14MissionCompleteUnroundedEstimate,
	DefectH14KarmaFreshCacheLive,
	DefectH14KarmaRecoveryNeedsTraffic,
	DefectH15CollabIDPerTeam,
	DefectH15SynergieEarnedAtArrival,
}

// Defects is a set of switched-on defects. The nil set switches none on.
type Defects map[Defect]bool

// Has reports whether d is switched on.
func (ds Defects) Has(d Defect) bool { return ds[d] }

// String lists the switched-on defects, comma-separated in AllDefects order ("none" when empty).
func (ds Defects) String() string {
	var names []string
	for _, d := range AllDefects {
		if ds[d] {
			names = append(names, string(d))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// ParseDefects parses a comma-separated list of defect names. "" or "none" switches
// none on, "all" switches every defect on. An unknown name is an error that lists the
// known ones.
func ParseDefects(s string) (Defects, error) {
	ds := Defects{}
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return ds, nil
	}
	known := map[Defect]bool{}
	for _, d := range AllDefects {
		known[d] = true
	}
	for _, part := range strings.Split(s, ",") {
		name := strings.TrimSpace(part)
		switch {
		case name == "" || name == "none":
			continue
		case name == "all":
			for _, d := range AllDefects {
				ds[d] = true
			}
		case known[Defect(name)]:
			ds[Defect(name)] = true
		default:
			names := make([]string, 0, len(AllDefects))
			for _, d := range AllDefects {
				names = append(names, string(d))
			}
			sort.Strings(names)
			return nil, fmt.Errorf("defects: unknown defect %q (known: %s; or none, all)", name, strings.Join(names, ", "))
		}
	}
	return ds, nil
}
