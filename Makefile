# Surge: the one entry point for people and CI. `make help` lists every target.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --warn-undefined-variables

UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),.tools/uv/bin/uv)
RUN := $(UV) run --frozen
ROLE ?= operator
SUB ?= alice
PYTEST_ARGS ?=

.PHONY: help
help: ## List every target with what it does
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

.tools/uv/bin/uv:
	python3 -m venv .tools/uv
	.tools/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml) | $(UV)
	$(UV) sync --frozen --all-packages
	@touch $@

.PHONY: install
install: .venv/.synced ## Install Python (uv) and every locked dependency into .venv

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: up
up: install ## Install and start PostgreSQL, NATS and all five services (gateway on :8080)
	$(RUN) python scripts/devstack.py up

.PHONY: down
down: ## Stop everything `make up` (and `make observe`) started; data stays in .surge/
	@if [ -x .venv/bin/python ]; then \
	  .venv/bin/python scripts/observe.py down >/dev/null 2>&1 || true; \
	  .venv/bin/python scripts/devstack.py down; \
	fi

.PHONY: status
status: install ## Show each component's health
	$(RUN) python scripts/devstack.py status

.PHONY: token
token: install ## Print a local JWT: make token ROLE=operator SUB=alice (last line)
	$(RUN) surge-gateway token --role $(ROLE) --sub $(SUB) --key-dir .surge

.PHONY: test
test: install ## Run unit, integration and e2e tests against real PostgreSQL and NATS
	$(RUN) pytest tests $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: install ## Run only the unit tests (no servers)
	$(RUN) pytest tests/unit $(PYTEST_ARGS)

.PHONY: proto
proto: install ## Regenerate libs/contracts from proto/
	scripts/proto.sh

.PHONY: lint
lint: install node_modules/.installed ## buf lint, generated-code check, ruff, mypy --strict, import-linter
	npx --no-install buf lint
	scripts/proto.sh --check
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy libs/platform/src services/*/src
	$(RUN) lint-imports

.PHONY: helm-check
helm-check: install ## Lint, render and policy-check the Helm chart offline
	bash scripts/helm_check.sh

.PHONY: rules-check
rules-check: install ## promtool check/test the alert rules; chart copies and dashboards up to date
	bash scripts/promtool.sh

.PHONY: observe
observe: install ## Start a local Prometheus scraping the `make up` stack
	$(RUN) python scripts/observe.py up

.PHONY: clean
clean: down ## Stop everything and delete local data (.surge/)
	rm -rf .surge

.PHONY: bench-saga
bench-saga: install ## Benchmark the saga on the running local stack (make up first)
	$(RUN) python bench/saga.py

.PHONY: image
image: ## Build the container image (needs a Docker engine; none on the dev machines)
	docker build -t surge:dev .

.PHONY: bench-gateway
bench-gateway: install ## Benchmark accepted POST /v1/orders on the running local stack
	$(RUN) python bench/gateway.py

.PHONY: bench-floor
bench-floor: install ## CPU per use of HTTP, gRPC, PostgreSQL and NATS with no logic (own servers)
	$(RUN) python bench/floor.py --runs 3

SHAPE ?= steady
SCENARIO ?= mixed
DURATION ?= 60
RATE ?= 10
HOST ?=
TOKEN ?=
SEED ?=
LOADTEST_ARGS ?=

.PHONY: loadtest
loadtest: install ## Locust load test + invariant check: make loadtest SHAPE=spike DURATION=120 RATE=10 [HOST=… TOKEN=…]
	HOST="$(HOST)" TOKEN="$(TOKEN)" $(RUN) python -m loadtest.run --shape $(SHAPE) \
	  --scenario $(SCENARIO) --duration $(DURATION) --rate $(RATE) $(LOADTEST_ARGS)

.PHONY: bench
bench: install ## Double 11 capacity on the local stack: step ramp, saga throughput, drain after a 10x spike
	$(RUN) python -m loadtest.bench $(LOADTEST_ARGS)

.PHONY: chaos
chaos: install ## Long chaos run on a private stack (kills, NATS/PostgreSQL restarts, pauses): make chaos SEED=42
	$(RUN) python -m loadtest.chaos $(if $(SEED),--seed $(SEED)) --rounds 2 --pause 10 $(LOADTEST_ARGS)
