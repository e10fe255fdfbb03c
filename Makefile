# creditgate — the credit engine and the hard gates that sign it off.
# `make help` lists the targets. Everything runs on loopback only.

SHELL := /bin/bash
GO    ?= go
export TESTCONTAINERS_RYUK_DISABLED ?= true

RUN_ID ?= $(shell date -u +%Y%m%dT%H%M%SZ)
OUT    ?= out/$(RUN_ID)
# Short CI profile by default; the nightly soak sets LIVE_TEST_DURATION=30m.
export LIVE_TEST_DURATION ?= 60s
export LIVE_TEST_SEED ?= 42
# Built, then run: `go run` would turn every verdict's exit code into 1.
CREDITGATE := build/creditgate

.PHONY: creditgate-bin deps-up help build image test bench bench-store lint check gates gates-cluster gate-a gate-b gate-c gate-d gate-e verify-gates soak docker-up compose-up clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

creditgate-bin:
	@$(GO) build -o build/creditgate ./cmd/creditgate

build: ## build every package and the binaries into build/
	$(GO) build ./...
	CGO_ENABLED=0 $(GO) build -o build/creditd ./cmd/creditd
	CGO_ENABLED=0 $(GO) build -o build/karma-stub ./cmd/karma-stub
	$(GO) build -o build/creditgate ./cmd/creditgate

image: ## build the FROM-scratch images creditgate/creditd:dev and creditgate/karma-stub:dev
	scripts/build-images.sh

docker-up: ## install (if needed) and start the Docker engine (host networking, no bridge)
	scripts/docker-up.sh

deps-up: ## install (if needed) PostgreSQL 15 (cluster target, pgstore tests) and FUSE (power-loss checks)
	scripts/deps-up.sh

compose-up: image ## start the backend with docker-compose on 127.0.0.1:8000
	docker-compose up -d backend

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: ## unit tests with the race detector (no gates)
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v '/gates/[a-e]$$')

bench: ## benchmarks side by side: group commit vs fsync per event, 1M-event replay, heap per event, idempotency index at 10M keys
	scripts/bench.sh

bench-store: deps-up ## one run: pgbench's ledger transaction vs creditd consume on PostgreSQL (1 and 3 instances) and the journal; prints the ratios
	scripts/bench-store.sh

# The container target (default) needs a Docker engine; bring it up first.
ifeq ($(filter-out container,$(or $(CREDITGATE_TARGET),container)),)
NEED_DOCKER := docker-up
endif

gates: $(NEED_DOCKER) creditgate-bin ## all five gates (short CI profile) against our engine; report in out/<run-id>; exit code = verdict
	$(CREDITGATE) gates --out $(OUT)

gates-cluster: deps-up creditgate-bin ## all five gates against PostgreSQL + 3 creditd instances (docs/cluster.md); journal-file specs do not apply there
	CREDITGATE_TARGET=cluster $(CREDITGATE) gates --out $(OUT)

gate-a: $(NEED_DOCKER) creditgate-bin ## gate A: event integrity
	$(CREDITGATE) gates --gates a --out $(OUT)
gate-b: $(NEED_DOCKER) creditgate-bin ## gate B: projection integrity
	$(CREDITGATE) gates --gates b --out $(OUT)
gate-c: $(NEED_DOCKER) creditgate-bin ## gate C: human-gate safety
	$(CREDITGATE) gates --gates c --out $(OUT)
gate-d: $(NEED_DOCKER) creditgate-bin ## gate D: failure safety
	$(CREDITGATE) gates --gates d --out $(OUT)
gate-e: $(NEED_DOCKER) creditgate-bin ## gate E: load reality (LIVE_TEST_DURATION)
	$(CREDITGATE) gates --gates e --out $(OUT)

soak: $(NEED_DOCKER) creditgate-bin ## the nightly sign-off: all gates with gate E's load for LIVE_TEST_DURATION=30m
	LIVE_TEST_DURATION=30m $(CREDITGATE) gates --out $(OUT)

VERIFY_PARALLEL ?= 4
verify-gates: creditgate-bin ## prove the gates can fail: each gate must say NO-GO against engines with seeded bugs (VERIFY_PARALLEL at a time)
	$(CREDITGATE) verify-gates --parallel $(VERIFY_PARALLEL) --out out/verify-gates

check: deps-up lint test gates gates-cluster verify-gates ## the CI job: lint, unit tests, the gates (single engine and cluster), and the fault-seeded gate checks

clean: ## remove build output and reports
	rm -rf build out
