#!/usr/bin/env bash
# make bench: the journal and engine budgets of SPEC §9, side by side in one
# run (this machine is shared and noisy: compare ratios, not absolutes).
#   - appends/s with group commit vs one fdatasync per event, 1/16/64/256 appenders
#   - replay speed of a 1M-event journal (journal scan + decode, and full engine open)
#   - heap bytes per stored event after replay
#   - the idempotency index with 10M retained keys: memory, lookup latency
#     (hit in memory, hit on disk, miss) and the live spill cost
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-2s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== journal appends (real fdatasync on $(df --output=source . | tail -1)), -benchtime=$BENCHTIME"
go test -run '^$' -bench 'BenchmarkAppend' -benchtime="$BENCHTIME" ./engine/journal/ | tee "$tmp/append.txt"
echo
echo "| appenders | group commit (events/s) | one fsync per event (events/s) | ratio |"
echo "|---|---|---|---|"
awk '
/^BenchmarkAppend\// {
	split($1, p, "/"); mode = p[2]; conc = p[3]; sub(/^conc=/, "", conc); sub(/-[0-9]+$/, "", conc)
	for (i = 1; i <= NF; i++) if ($(i+1) == "events/s") v = $i
	rate[mode, conc] = v; concs[conc] = 1
}
END {
	n = split("1 16 64 256", order, " ")
	for (k = 1; k <= n; k++) { c = order[k]
		g = rate["group", c]; e = rate["perEvent", c]
		if (g != "" && e != "" && e > 0) printf "| %s | %.0f | %.0f | %.1f× |\n", c, g, e, g / e
	}
}' "$tmp/append.txt"
echo
echo "== replay of 1M events: journal scan+decode, then full engine open (projections, heap per event)"
go test -run '^$' -bench 'BenchmarkReplay$' -benchtime=1x ./engine/journal/ | grep -E '^Benchmark|events/s'
go test -run '^$' -bench 'BenchmarkReplay1M' -benchtime=1x ./engine/ | grep -E '^Benchmark|events/s'

echo
echo "== idempotency index with ${KEYINDEX_BENCH_KEYS:-10000000} retained keys (20,000 in memory, the rest in the bbolt file): memory, lookup p50/p99, spill"
KEYINDEX_BENCH_KEYS=${KEYINDEX_BENCH_KEYS:-10000000} go test -run '^$' -bench 'BenchmarkKeyIndex10M' -benchtime="${KEYINDEX_BENCHTIME:-200000x}" -timeout 30m ./engine/ \
	| grep -E '^Benchmark|^keyindex:'

echo
if [ -x "${CREDITGATE_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ]; then
	echo "== consumes through the engine: JSONL journal vs PostgreSQL store (group commit), fsync on, 1/16/64/256 appenders (make bench-store sets them beside pgbench)"
	go test -run '^$' -bench 'BenchmarkStoreConsume' -benchtime="${STORE_BENCHTIME:-500x}" ./engine/ | tee "$tmp/store.txt" | grep -E '^Benchmark'
	echo
	echo "== plain PostgreSQL baseline: pgbench, one guarded UPDATE + one INSERT per consume (3 s per client count)"
	go test -run '^$' -bench 'BenchmarkPgbenchBaseline' -benchtime=1x ./engine/pgstore/ | grep -E '^Benchmark'
else
	echo "== PostgreSQL 15 not installed: store and pgbench comparisons skipped (apt-get install postgresql-15)"
fi
