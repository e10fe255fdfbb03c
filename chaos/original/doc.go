// Package original is a small credit backend written the way the original
// FastAPI service was: only the original's routes (SPEC §6, first table,
// under /api/credits plus GET /api/health), a JSONL journal replayed on
// start, no approvals, pools, synergie or KARMA. It is NOT creditd: the
// harness uses it as a foreign backend to prove the gates judge an
// implementation they were not built with.
//
// With no defect switched on it is correct: money is exact (int64
// milli-credits, at most 3 decimals, 0 < amount <= 1e9), every write is
// journaled and fsynced before the answer, Idempotency-Key is honoured
// (also across restarts), unknown agents are 404, re-registration 409, an
// overdraft 409 insufficient_credits, an add (or a refund naming no mission) of
// 500 credits or more 403
// approval_required, journal damage found at start is reported by health
// (503 "degraded", reads keep working) and a failed journal write is sticky
// (every later write 503, health 503 "failed").
//
// The journal (JournalName in the data directory) holds one JSON object per
// write: the original's envelope (event_id, event_type credit.allocated |
// credit.consumed | credit.refunded, timestamp, actor_id, correlation_id,
// causation_id, schema_version, idempotency_key) plus seq (gapless from 1),
// a payload whose money fields are decimal strings (amount,
// balance_after), metadata {route, request_hash} and a last member
// "crc" (CRC32-C of the line without it, creditd's rule). A registration is
// credit.allocated with payload.initial (the balance becomes the amount).
// At start a torn last line is moved to journal.jsonl.torn-<unixnano> and
// cut off; garbage, checksum, seq and fold errors are skipped and reported.
//
// Defects (Config.Defects; flag -defects / env ORIGINAL_DEFECTS) each break
// exactly one of those promises, so a gate that should catch it can be
// shown to fail: float-money, ignore-idempotency, mint-without-approval,
// reregister-resets, accept-non-finite, apply-then-5xx, drop-torn-silently,
// health-always-ok, forget-keys-on-restart, lazy-fsync, refund-replay-sign,
// overdraw-race, truncate-extra-decimals, seeded-event-ids,
// unknown-balance-zero, metrics-count-since-start, h8-threshold-exclusive,
// h8-balances-skip-empty, h8-history-limit-oldest, h8-replay-cents,
// h8-retry-body-after-restart, h8-refund-no-fsync, h10-consume-exact-balance,
// h10-skill-float-truncate, h10-history-refund-negative, h10-fold-clock,
// h10-crc-warn-only, h10-seq-from-count, h10-key-check-race,
// h10-malformed-json-422, h12-key-per-route, h12-key-cache-bounded,
// h12-history-neg-fraction, h12-max-amount-int-part, h12-register-race,
// h12-anomaly-norm-not-replayed, h12-balances-cents, h12-naive-timestamp,
// h12-gap-drops-next, h12-key-conflict-after-restart,
// h12-replay-header-live-only, h12-replay-drops-mission-id,
// h12-overdraft-tolerance, h12-empty-mission-ungated,
// h12-replay-timestamp-millis. See Defect.
//
// A Server is safe for concurrent use: one mutex serializes writes (each
// holds it across its fsync) and reads take it shared. This package must not
// import engine/ or any other creditgate package.
package original
