// Package specbackend is a second, independent implementation of the credit backend of
// SPEC.md §1–§7, written from the SPEC alone (not from engine/ or creditd/). Its purpose
// is to be a different-but-conformant target for the harness: a check that fails this
// backend while the SPEC allows its behaviour is a wrong check. Standard library only.
// It must not import engine/, creditd/, gates/ or any other package of this module.
//
// # What it owns
//
// One append-only JSONL journal (the source of truth) and in-memory projections folded
// from it (State.Apply: no clock, no randomness, no I/O). The HTTP layer (Server) only
// decodes, calls the Engine and encodes; it never touches the journal or a projection.
//
// # Invariants
//
//   - Money is int64 milli-credits everywhere (state, payload *_milli fields, arithmetic).
//     The API speaks exact decimal JSON numbers in credits; formatMilli never goes through
//     float64. Every balance equals the sum of its signed deltas; a fold that sees a
//     payload balance_after_milli differing from its own sum counts an integrity error.
//   - A mutation is acknowledged only after its lines are written and fdatasync'ed. One
//     writer goroutine groups every queued batch into one write + one sync. The first write
//     or sync error is sticky: every later append gets it (503 journal_failed, health
//     "failed", readiness 503); a failed fsync is never retried.
//   - Two states: the decision state (every sealed event, under the engine mutex) and the
//     read model (only events whose group commit was fsynced; the writer folds them in
//     before answering the group). Every query reads the read model. A refusal decided on
//     not-yet-durable state is answered only once that state is durable (503 if its batch
//     failed); a failed batch's keys are forgotten, and the decision state that holds its
//     effects is never used again (the journal error is sticky).
//   - Recovery repairs durably (sidecar fsynced before the cut; rewrite: fsync new file,
//     rename, fsync directory). If a repair write fails (disk full) the engine still starts
//     read-only: reads served, appends 503, journal "failed". A key index file that cannot
//     be written falls back to memory.
//   - Decide, seal, apply and enqueue happen under one engine mutex, so journal order ==
//     seq order == fold order, and check-then-append is atomic (no overdraft, one decision).
//   - seq is gapless from 1 (recovery may leave gaps only where lines were physically
//     destroyed; those are recorded in the quarantine file and reported).
//   - Memory is bounded per entity, not per event: ledger rings, an offset index with one
//     entry per 8 seq, keyed commands in memory only until durable (then on disk).
//
// Group commit has no artificial wait: the writer takes whatever is queued (up to
// MaxBatch batches), writes once and syncs once; under load batches form by themselves.
//
// # Journal line format
//
// {"seq","event_id" (UUIDv4),"event_type","timestamp" (RFC 3339 UTC, nanoseconds),
// "actor_id","correlation_id","causation_id" (null or an earlier event_id),"payload",
// "schema_version" (1),"idempotency_key","metadata","checksum"} in that order. checksum is
// "crc32c:%08x": CRC32-C (Castagnoli) of the line's canonical bytes, which are the line
// with the `,"checksum":"…"` member removed (i.e. the JSON object of all other members as
// written). A line therefore always starts with {"seq":N, and ends with the checksum.
//
// Idempotency keys: the client key (Idempotency-Key header or idempotency_key body field;
// both given and different is 422) goes on the first event of the command; further events
// of the same command get "<key>~<n>"; without a client key the server writes
// "srv~<uuid>[~n]". Client keys must be printable ASCII without '~' (so the three spaces
// cannot collide), at most 200 bytes. metadata.command, metadata.request_hash and
// metadata.events_in_command on the first event let the index be rebuilt on replay; a
// keyed retry re-reads the command's events from the journal and renders the answer from
// them (respond), so the retried answer is byte-for-byte the first answer even after a
// restart. Keys are global (not per route) and retained for the life of the journal
// (in the on-disk key index, see below). The request hash covers the route, the
// normalized request and the principal: the same key from another principal is a conflict.
// A request that fails with a business error (404/409/422) writes nothing and is not
// remembered; its retry is evaluated afresh.
//
// # Event types and payloads (amounts are positive; the event type gives the sign)
//
//	agent.registered            {agent_id, skill_level_ppm, initial_milli}
//	credit.allocated  (+)        {entity_id, entity_type:"agent", agent_id, amount_milli, balance_after_milli, reason, mission_id, approval_id?}
//	credit.consumed   (−)        same; metadata: karma_source, karma_score, anomaly_detected, anomaly_score, anomaly_reason, anomaly_detector
//	credit.refunded   (+)        same
//	credit.withdrawn  (−)        same
//	approval.requested          {request_id, action_type, agent_id, amount_milli, reason, justification, requester_id, risk_level, required_approvals, timeout_seconds, expires_at, version:1}
//	approval.vote_recorded      {request_id, approver_id, version}      (first of two CRITICAL approvers)
//	approval.approved           {request_id, approver_id, approvers[], version}  causation: the request event
//	approval.rejected           {request_id, approver_id, reason, version}       causation: the request event
//	approval.expired            {request_id, expires_at, version}                causation: the request event; actor system:expiry
//	synergie.collaboration_recorded {collaboration_id, team_id, mission_id, agent_ids, contribution_ppm{}, base_reward_milli, collab_hash}
//	synergie.reward_granted (+) credit fields + collaboration_id, team_id, contribution_ppm, karma_score_ppm, raw_reward_milli; causation: collaboration
//	synergie.reward_capped      {collaboration_id, team_id, agent_id, amount_milli (unpaid part), raw_reward_milli, paid_milli, cap_milli, earned_before_milli}; causation: collaboration
//	pool.created / member_added / member_removed / allocated / consumed / refunded / transferred / closed
//	                            {pool_id, agent_id?, amount_milli?, pool_balance_after_milli, agent_balance_after_milli?, to_pool_id?, to_pool_balance_after_milli?, reason?}
//	mission.started             {mission_id, agent_id, mission_type, complexity, skill_level_ppm, estimate_milli} then credit.consumed (causation: mission.started)
//	mission.completed|failed|cancelled {mission_id, refund_milli, actual_milli?|refund_ppm?} then credit.refunded (causation: the mission's credit.consumed)
//	eoc.regulated               {score, band, previous_band, regeneration_factor, backpressure, anomaly_rate, error_rate, load_rps}  (system event, every EoC window that had operations)
//
// Creating an agent writes agent.registered and, when skill_level × 100 > 0, a
// credit.allocated caused by it (a skill of 0 creates an agent with no money event).
//
// # Choices where the SPEC is silent
//
//   - Amounts: "at most 3 decimal places" is judged by value (1.5000 is 1.5); exponents
//     are accepted within ±30. Unit values (skill_level, contribution scores,
//     refund_percentage) are rounded half up to 6 decimals (ppm).
//   - Unknown JSON fields are 422 code unknown_field (malformed JSON is 400). Duplicate
//     fields are 422. Empty bodies count as {}. Body limit 64 KiB (413).
//   - Withdraw never overdraws (409 insufficient_credits), checked when requested and
//     again when an approval executes (the approval then stays pending). Refunds to agents
//     without mission_id are not limited by earlier consumption; refunds naming a mission
//     (POST /refund with mission_id and the mission's end refund) never exceed, in total, the
//     credit.consumed naming it, and pool refunds never exceed pool consumption (409
//     refund_exceeds_consumed, nothing written). GET /missions/{id} reports consumed and
//     refunded as the sums of the journal's events naming the mission.
//   - Approvals: requests below MEDIUM through POST /approvals are LOW: auto-approved by
//     actor "system:auto" and executed at once (202 with status approved). The justification
//     HIGH/CRITICAL need may come with the request or with the approving decision;
//     otherwise approving is 422 naming "justification". The requester may neither approve
//     nor reject (403 four_eyes_violation). The same approver twice on CRITICAL is 409
//     duplicate_approver. expected_version (or If-Match) that does not match a pending
//     request is 409 version_conflict. Deciding a request past its expiry journals
//     approval.expired and answers 409 already_decided naming it (the expiry is the
//     first terminal decision, SPEC §5), as every later decision is. GET shows such a request as "expired" before the timer journals it.
//   - Synergie: reward = base (50 credits) × contribution × (0.5 + CI), floored to the
//     milli-credit, so the fallback CI 0.5 gives weight 1.0. Agent ids are deduplicated;
//     every agent needs a contribution score, no score for a non-member. A duplicate
//     collaboration_id with the same content replays the first answer (Idempotent-Replayed),
//     with different content is 409 idempotency_key_conflict.
//   - KARMA contract: GET {CREDITD_KARMA_URL}/v1/score/{agent_id} -> {"score": 0..1},
//     GET /healthz for background probes (1 s). Timeout 150 ms, breaker opens after 3
//     consecutive failures, half-open after 2 s. A fresh (10 s) cached score is used
//     without asking; during an outage any cached score younger than 5 min ("cache"),
//     else CI 0.5 ("fallback"). Consume records the CI in metadata only; it does not
//     change the amount. /karma/status state: healthy | degraded (recent failures) | down
//     (breaker open, or no URL configured: breaker "disabled"). Health shows karma
//     "degraded" whenever a configured KARMA is not healthy, "not_configured" without URL;
//     the top-level health status is then "degraded" (HTTP 200); "failed" (503) only when
//     the journal failed.
//   - Anomaly detection (flag, never block) after 5 samples: amount ≥ 10 × running mean,
//     or z-score ≥ 6. Statistics are a fold over unflagged credit.consumed (Welford; a
//     flagged amount never moves the norm), so replay reproduces them; the decision is stored in the event's metadata. A detector panic or
//     NaN is isolated: metadata.anomaly_detector = "unavailable", the consume succeeds.
//   - EoC score = clamp(0.55 + 0.10·load − 0.15·anomaly_rate − 0.25·error_rate, 0.1, 0.9)
//     over a 15-tick window (tick 2 s), smoothed (α 0.3, step ≤ 0.05/tick); load =
//     min(req/s ÷ 2000, 1); error rate counts 5xx answers to mutations. Anomalies alone
//     keep it ≥ 0.40. Bands: <0.3 critical_low, <0.5 low, ≤0.7 optimal, ≤0.85 high, else
//     critical_high. Regulation (regeneration factor 0.8–1.2, backpressure 0–1 from errors
//     and load only) moves in damped steps and is advisory: this backend never throttles
//     and writes no credit.regenerated events. eoc.regulated is journaled for every
//     closed window that had operations; GET /eoc serves the projection of the last one,
//     so replay answers exactly what was served before a crash.
//   - Missions: POST /missions {mission_id, agent_id, mission_type?, complexity?} (201)
//     consumes the estimate; /missions/{id}/complete {actual_cost} refunds estimate −
//     actual if positive; /fail {refund_percentage?} refunds estimate × share (default
//     1.0), floored; /cancel refunds 100%. A finished mission is 409 mission_finished.
//   - Pools: POST /pools {pool_id, name?} (201); members add/remove; allocate {amount,
//     from_agent_id?} grants new credits, or moves them from an agent (no overdraft);
//     consume by members only (403 not_a_member; no overdraft); transfer between open
//     pools; close {agent_id} pays the remainder to that agent; a closed pool is 409
//     pool_closed.
//   - Ledger: the newest 256 entries per agent stay in memory (a ring); every agent ledger
//     event carries prev_entry_seq (agent_prev_entry_seq on pool events), so GET
//     /history/{id}?limit=&offset= pages past the ring by following that chain through
//     the journal. limit max 1000, default 100. "truncated": true when the chain hits a
//     destroyed line.
//   - Retained idempotency keys live in an on-disk hash index (journal.jsonl.keys, 16-byte
//     slots, rebuilt from the journal at start, never synced); only in-flight keys are in
//     memory, so memory stays flat however many keys a soak sends.
//   - Auth: with tokens, the token's principal is the actor and body actor fields are
//     ignored; health, liveness, readiness, OpenAPI and Prometheus /metrics are public,
//     every other route needs a token (reads: any role; mutations: operator, service,
//     admin; decisions: approver, admin). Without tokens (dev mode) the actor comes from
//     actor_id / requester_id / approver_id (approver_id or actor_id required to decide),
//     "anonymous" when absent.
//   - Recovery: a bad last line (incomplete, bad JSON, bad checksum) is a torn tail: it is
//     copied to journal.jsonl.torn-<UTC time> and cut — with the lines of the command it
//     ends (metadata.events_in_command on a command's first event), whose events are
//     applied only once all of them are read; so is a command the file ends inside of.
//     Bad middle lines and repeated or
//     backward seq are removed from the journal (atomic rewrite) and appended to
//     journal.jsonl.quarantine with line number, offset, reason and raw text; a seq gap is
//     recorded there too (lost_from_seq/lost_to_seq) so the next start accepts exactly that
//     gap as "previously lost" and is clean. Health stays "degraded" for the run that
//     quarantined. Strict mode refuses to start with "journal: FILE line N: reason".
//   - Creation routes of the original table answer 200 (POST /agents); pool and mission
//     creation answer 201.
//
// # Deliberate defects
//
// Config.Defects (flag -defects / env SPEC_DEFECTS of cmd/spec-backend) switches on named
// bugs, each breaking one promise of the SPEC at a boundary, to check that the harness
// notices them (defects.go lists them). None is on by default; everything above
// describes the backend without defects.
package specbackend
