#!/usr/bin/env bash
# make bench-store: the store budgets of SPEC §9 in one run on one machine
# (this machine is shared and noisy: compare the ratios, not absolutes).
#   - plain PostgreSQL doing the ledger transaction (pgbench: guarded UPDATE +
#     INSERT, committed) at 1/16/64/256 clients
#   - creditd's consume through the engine on PostgreSQL, 1 and 3 instances,
#     and on the JSONL journal, at 1/16/64/256 appenders
#   - the journal's group commit vs one fdatasync per event at the same counts
# Budgets: PostgreSQL store >= 2x pgbench at 64; 3 instances never below 1;
# journal group commit >= 20x one fsync per event at 64.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_BIN=${CREDITGATE_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pgbench" ]; then
	echo "bench-store: PostgreSQL 15 with pgbench is needed in $PG_BIN (make deps-up)" >&2
	exit 2
fi
STORE_BENCHTIME=${STORE_BENCHTIME:-3000x}
APPEND_BENCHTIME=${APPEND_BENCHTIME:-1s}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-5}
export PGBENCH_SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== plain PostgreSQL: pgbench ledger transaction, ${PGBENCH_SECONDS}s per client count"
go test -run '^$' -bench 'BenchmarkPgbenchBaseline' -benchtime=1x ./engine/pgstore/ | tee "$tmp/pgbench.txt" | grep -E '^Benchmark'
echo "== creditd consume through the engine (fsync on, synchronous_commit on), -benchtime=$STORE_BENCHTIME"
go test -run '^$' -bench 'BenchmarkStoreConsume' -benchtime="$STORE_BENCHTIME" ./engine/ | tee "$tmp/store.txt" | grep -E '^Benchmark'
echo "== journal appends: group commit vs one fdatasync per event, -benchtime=$APPEND_BENCHTIME"
go test -run '^$' -bench 'BenchmarkAppend' -benchtime="$APPEND_BENCHTIME" ./engine/journal/ | tee "$tmp/append.txt" | grep -E '^Benchmark'
echo
awk '
function val(unit,   i) { for (i = 1; i < NF; i++) if ($(i+1) == unit) return $i; return "" }
function conc(s) { sub(/^[a-z]+=/, "", s); sub(/-[0-9]+$/, "", s); return s }
/^BenchmarkPgbenchBaseline\// { split($1, p, "/"); pgb[conc(p[2])] = val("tps") }
/^BenchmarkStoreConsume\// { split($1, p, "/"); k = p[2]; sub(/^store=/, "", k); st[k, conc(p[3])] = val("ops/s") }
/^BenchmarkAppend\// { split($1, p, "/"); ap[p[2], conc(p[3])] = val("events/s") }
function r(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.1f×", a / b) : "n/a" }
function n(a) { return a == "" ? "n/a" : sprintf("%.0f", a) }
END {
	split("1 16 64 256", order, " ")
	print "| appenders | pgbench ledger (tps) | PG store, 1 instance (consumes/s) | PG store, 3 instances | JSONL journal (consumes/s) | PG-1 / pgbench | PG-3 / pgbench | PG-3 / PG-1 | journal group / fsync per event |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= 4; i++) { c = order[i]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c, n(pgb[c]), n(st["postgres", c]), n(st["postgres-3", c]), n(st["jsonl", c]),
			r(st["postgres", c], pgb[c]), r(st["postgres-3", c], pgb[c]), r(st["postgres-3", c], st["postgres", c]), r(ap["group", c], ap["perEvent", c])
	}
}' "$tmp/pgbench.txt" "$tmp/store.txt" "$tmp/append.txt"
