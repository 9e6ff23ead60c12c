# O2O — make run (everything on this machine) and make test (every test).
SHELL := /bin/bash
TEMPORAL_CLI_VERSION := v1.5.1
BIN := $(CURDIR)/bin
TEMPORAL := $(BIN)/temporal
GO ?= go
# Integration tests find the Temporal CLI here (never downloaded at test time).
export O2O_TEMPORAL_CLI := $(TEMPORAL)
# The Temporal server make cluster-test builds from its Go module: the version
# docker-compose.yml pins (temporalio/server and admin-tools), which the test checks.
TEMPORAL_SERVER_VERSION := 1.29.1
TEMPORAL_SERVER_DIR := $(BIN)/temporal-server-$(TEMPORAL_SERVER_VERSION)
TEMPORAL_SERVER := $(TEMPORAL_SERVER_DIR)/temporal-server
# PostgreSQL's programs (initdb, postgres, pg_isready): Debian's newest, or set PG_BIN.
PG_BIN ?= $(or $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1),$(patsubst %/,%,$(dir $(shell command -v initdb 2>/dev/null))))

.PHONY: all build run test unit integration cluster-test fuzz vet fmt clean help record-histories bench bench-end-to-end drill

all: build

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(TEMPORAL): ## The pinned Temporal CLI (dev server + Web UI); ~3 min on first build
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

build: $(TEMPORAL) ## Build every binary into bin/
	$(GO) build -o $(BIN)/ ./worker ./webhook ./starter ./cmd/oneserve-sim ./cmd/devstack

run: build ## Start Temporal, two simulated systems, the worker and the webhook server
	$(BIN)/devstack -bin $(BIN) -data $(CURDIR)/.run -config o2o.example.yaml -seed dev/simulator.yaml $(if $(KEEP),-keep)

test: vet unit fuzz integration ## Run every test

unit: ## Unit tests (no server needed)
	$(GO) test -race -count=1 ./...

# Execution counts, not durations: with a duration, Go 1.26's fuzz coordinator
# can fail a clean run with "context deadline exceeded" at the deadline
# (go.dev/issue/75804, fixed in Go 1.27). Each is a few seconds here.
FUZZ_DECODE ?= 200000x
FUZZ_VERIFY ?= 100000x
FUZZ_PARSE ?= 20000x
FUZZ_LENIENT ?= 100000x
FUZZ_LIFE ?= 50000x
PROPERTY_LIVES ?= 30000
fuzz: ## Fuzz the event decoder, the signature check, the config loader, the lenient JSON scalars and the link's life briefly
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZ_DECODE) ./events/
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZ_VERIFY) ./events/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZ_PARSE) -fuzzminimizetime=100x ./config/
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZ_LENIENT) ./internal/lenient/
	@out=$$(O2O_PROPERTY_LIVES=$(PROPERTY_LIVES) $(GO) test -count=1 -run='^TestRandomLives$$' -v ./lifecycle/ 2>&1); rc=$$?; \
	echo "$$out" | grep -E 'random lives|^(ok|FAIL|---)|property_test' ; exit $$rc
	$(GO) test -run='^$$' -fuzz='^FuzzLife$$' -fuzztime=$(FUZZ_LIFE) ./lifecycle/

integration: $(TEMPORAL) ## End-to-end tests on a real Temporal dev server
	$(GO) test -race -count=1 -tags=integration -timeout 15m ./e2e/...

# The full size of e2e's TestHostileLoad (make test runs a 5 s one); about 2 minutes.
.PHONY: hostile
hostile: $(TEMPORAL) ## The webhook server under 30 s of hostile load while valid events flow: acks, status codes, cut-offs, memory (docs/operations.md#the-edge)
	@out=$$(O2O_HOSTILE=full $(GO) test -count=1 -v -tags=integration -run '^TestHostileLoad$$' -timeout 15m ./e2e/ 2>&1); rc=$$?; \
	echo "$$out" | grep -E 'hostile_load_test.go:[0-9]+: |^(--- |ok |FAIL|PASS)' | sed -E 's/^ *hostile_load_test.go:[0-9]+: //'; \
	[ $$rc -eq 0 ] || { echo "$$out" | grep -v '^        {"level' | tail -60; exit $$rc; }

$(TEMPORAL_SERVER): ## The pinned Temporal server, its SQL tool and PostgreSQL schema; ~3 min on first build
	@mkdir -p $(TEMPORAL_SERVER_DIR)
	GOBIN=$(TEMPORAL_SERVER_DIR) $(GO) install go.temporal.io/server/cmd/server@v$(TEMPORAL_SERVER_VERSION) go.temporal.io/server/cmd/tools/sql@v$(TEMPORAL_SERVER_VERSION)
	rm -rf $(TEMPORAL_SERVER_DIR)/schema && cp -r "$$($(GO) env GOMODCACHE)/go.temporal.io/server@v$(TEMPORAL_SERVER_VERSION)/schema/postgresql/v12" $(TEMPORAL_SERVER_DIR)/schema && chmod -R u+w $(TEMPORAL_SERVER_DIR)/schema
	mv $(TEMPORAL_SERVER_DIR)/sql $(TEMPORAL_SERVER_DIR)/temporal-sql-tool
	mv $(TEMPORAL_SERVER_DIR)/server $(TEMPORAL_SERVER)

# Not part of make test (it needs PostgreSQL and a server build); .ci/run runs it after make test.
cluster-test: $(TEMPORAL_SERVER) ## O2O on a real Temporal cluster (server + PostgreSQL, two workers, two webhook servers, a worker kill and a server crash)
	@test -x "$(PG_BIN)/initdb" -a -x "$(PG_BIN)/postgres" -a -x "$(PG_BIN)/pg_isready" || { \
	  echo "PostgreSQL is not installed (looked in PG_BIN=$(PG_BIN))."; \
	  echo "Install it with: sudo apt-get install -y postgresql   (or set PG_BIN to a PostgreSQL 12+ bin/ directory)"; exit 1; }
	O2O_TEMPORAL_SERVER=$(TEMPORAL_SERVER) O2O_TEMPORAL_SQL_TOOL=$(TEMPORAL_SERVER_DIR)/temporal-sql-tool \
	O2O_TEMPORAL_SCHEMA=$(TEMPORAL_SERVER_DIR)/schema O2O_TEMPORAL_SERVER_VERSION=$(TEMPORAL_SERVER_VERSION) O2O_PG_BIN=$(PG_BIN) \
	  $(GO) test -race -count=1 -v -tags=integration,cluster -run '^TestCluster' -timeout 20m ./e2e/

vet: ## go vet and gofmt
	$(GO) vet ./...
	$(GO) vet -tags=integration ./e2e/...
	$(GO) vet -tags=integration,cluster ./e2e/...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

fmt: ## Format the code
	gofmt -w .

clean: ## Remove built binaries and local run data
	rm -rf $(BIN) .run

record-histories: $(TEMPORAL) ## Record missing workflow histories for the replay tests (commit them; existing ones are kept)
	O2O_RECORD_HISTORIES=1 $(GO) test -count=1 -tags=integration -run 'TestAssignmentCreatesTheLinkedJobEndToEnd|TestMisalignedSite|TestFullJobLife|TestOperatorActionsOverHTTP|TestPauseWhileRetryingEndToEnd|TestLongLivedLinkContinuesAsNewAndRemembers|TestReconciliationFindsLostWebhooksExactlyOnce|TestDocumentApprovalEndToEnd|TestVariationRoundTrip' ./e2e/

# make bench BENCH_FLAGS='-links 20 -rounds 1 -rss 1000' for a quick end-to-end run;
# BENCH_FLAGS='-variants "default; O2O_WORKER_POLLERS=auto"' compares worker tunings
# (o2obench -h lists every flag; docs/operations.md#benchmarks explains the figures).
BENCH_FLAGS ?=
bench: ## Benchmarks: document copy, reconciliation reads, then O2O end to end vs a raw Temporal baseline and worker memory per open link (10-20 min on 2 cores)
	@out=$$($(GO) test -run='^$$' -bench=CopyDocument -benchmem -benchtime=1x -count=1 ./activities/ 2>&1); rc=$$?; \
	echo "$$out"; [ $$rc -eq 0 ] || exit $$rc; \
	echo "$$out" | awk '/^BenchmarkCopyDocument/ { for (i = 3; i < NF; i++) if ($$(i+1) == "heap-growth-MB") h[$$1] = $$i; else if ($$(i+1) == "MB/s") r[$$1] = $$i } \
	  END { print ""; print "Document copy, worker side (MB = MiB):"; for (k in h) printf "  %-32s heap growth %8s MB  %9s MB/s\n", k, h[k], r[k] }'
	@out=$$($(GO) test -run='^$$' -bench=ReconcileReads -benchtime=1x -count=1 -timeout 30m ./activities/ 2>&1); rc=$$?; \
	echo "$$out"; [ $$rc -eq 0 ] || exit $$rc; \
	echo "$$out" | awk '/^BenchmarkReconcileReads/ { for (i = 3; i < NF; i++) v[$$1, $$(i+1)] = $$i; n[$$1] = 1 } \
	  END { print ""; print "Reconciliation reads against the simulator (limit per system in req/s; CPU includes the simulator):"; \
	    for (k in n) printf "  %-34s %7s s  %s calls/link  %s facts/link  %6s CPU-us/link  peak %s/%s req/s (limit %s)\n", k, v[k,"s/run"], v[k,"calls/link"], v[k,"facts/link"], v[k,"cpu-µs/link"], v[k,"peak-req/s-acme"], v[k,"peak-req/s-fixit"], v[k,"limit-req/s"] }'
	@$(MAKE) --no-print-directory bench-end-to-end

bench-end-to-end: $(TEMPORAL) ## O2O end to end vs a raw Temporal baseline, and worker memory per open link (cmd/o2obench; BENCH_FLAGS)
	$(GO) build -o $(BIN)/ ./worker ./webhook ./cmd/o2obench
	$(BIN)/o2obench -bin $(BIN) -temporal $(TEMPORAL) $(BENCH_FLAGS)

# Not part of make test (e2e's TestDrillSmall is its small version): about 15-30 min.
drill: $(TEMPORAL) ## Chaos drill: 10,000 events over 1,000 links; 5xx and timeouts, webhooks twice and out of order, worker kill -9 every 10 s, a Temporal restart (cmd/drill; DRILL_FLAGS, e.g. -links 100)
	$(GO) build -o $(BIN)/ ./worker ./webhook ./cmd/drill
	$(BIN)/drill -bin $(BIN) -temporal $(TEMPORAL) $(DRILL_FLAGS)
