# Clearway: two commands matter. `make run` starts the platform; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
# uv from PATH if present; otherwise installed with pip into a project-local venv (.tools/), which
# works even where the system Python refuses `pip install` (PEP 668 "externally managed").
UV_ON_PATH := $(shell command -v uv 2>/dev/null)
UV := $(if $(UV_ON_PATH),$(UV_ON_PATH),$(CURDIR)/.tools/bin/uv)
SERVICE ?= ledger
export UV_PYTHON_DOWNLOADS := never

.PHONY: help install run dev serve test test-fast lint typecheck format demo verify-ledger bench-ledger bench-reconciliation bench-authorization fuzz chaos asyncapi schemas clean user-token

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

install:  ## install uv (with pip) if missing, then the locked workspace
	@[ -x "$(UV)" ] || { $(PYTHON) -m venv .tools && .tools/bin/pip install --quiet "uv>=0.5"; }
	@$(UV) sync --all-packages --frozen --quiet

run: install  ## start PostgreSQL, the broker and all five services on the embedded stack (Ctrl-C stops all)
	@$(UV) run --frozen python -m clearway.devstack run

dev: install  ## start only PostgreSQL + broker (prints the env to run one service with `make serve SERVICE=...`)
	@$(UV) run --frozen python -m clearway.devstack up

user-token: install  ## print a one-hour end-user token for the embedded stack: make user-token IDENTITY=<identity id>
	@$(UV) run --frozen python -m clearway.devstack user-token --identity "$(IDENTITY)"

serve: install  ## run one service in the foreground against `make dev`'s infrastructure: make serve SERVICE=ledger
	@$(UV) run --frozen python -m clearway.$(SERVICE).main migrate
	@$(UV) run --frozen python -m clearway.$(SERVICE).main serve

test: install lint  ## lint, type-check and run the whole suite (unit, integration, end-to-end)
	@$(UV) run --frozen pytest -q -p no:cacheprovider --durations=30

test-fast: install  ## unit tests only (no infrastructure)
	@$(UV) run --frozen pytest -q -p no:cacheprovider -m "not integration and not e2e" --ignore-glob='*/integration/*' --ignore-glob='tests/e2e/*'

lint: install  ## ruff (lint, security rules, format check), mypy (strict on libs), deptry (each member declares what it imports), pip-audit
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check . >/dev/null || ($(UV) run --frozen ruff format --check . ; exit 1)
	@$(UV) run --frozen mypy
	@# deptry per workspace member, on its src/ and (services) migrations/, with the member's [tool.deptry];
	@# the clearway-* members all share the `clearway` namespace, which deptry cannot split: the script does.
	@for member in libs/* services/*; do \
	  out=$$($(UV) run --frozen deptry --config $$member/pyproject.toml $$member/src $$(ls -d $$member/migrations 2>/dev/null) 2>&1) \
	    || { echo "$$out"; echo "deptry failed for $$member"; exit 1; }; done
	@$(UV) run --frozen python scripts/check_namespace_deps.py
	@$(UV) run --frozen python scripts/audit_dependencies.py "$(UV)"

format: install
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .

demo: install  ## drive the seed flows against a running platform (`make run` in another terminal)
	@$(UV) run --frozen python -m tests.e2e.demo

verify-ledger: install  ## recompute every ledger balance from its entries; exit 1 on any difference (default: `make run`'s database)
	@CLEARWAY_LEDGER_DATABASE_URL=$${CLEARWAY_LEDGER_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:$${CLEARWAY_EMBEDDED_PG_PORT:-5433}/clearway_ledger} \
	  $(UV) run --frozen python -m clearway.ledger.verify

bench-ledger: install  ## ledger throughput/latency benchmark, each phase 15 s (writes bench-results/ledger.json): make bench-ledger ARGS="--phase-s 30" (--phase-s 0: by count, --scale N)
	@$(UV) run --frozen python -m bench.ledger $(ARGS)

bench-reconciliation: install  ## matching benchmark: 100,000 external transactions against 100,000 expectations (writes bench-results/reconciliation.json)
	@$(UV) run --frozen python -m bench.reconciliation $(ARGS)

bench-authorization: install  ## authorization decisions over HTTP against ledger + authorization, holds checked on the ledger (writes bench-results/authorization.json): make bench-authorization ARGS="--requests 500"
	@$(UV) run --frozen python -m bench.authorization $(ARGS)

FUZZ_EXAMPLES ?= 50
FUZZ_SEED ?= 1
fuzz: install  ## Schemathesis on every service's OpenAPI, in-process (writes bench-results/fuzz.json): make fuzz FUZZ_EXAMPLES=200 FUZZ_SEED=7 ARGS="-k ledger"
	@FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) FUZZ_SUMMARY=$(CURDIR)/bench-results/fuzz.json \
	  $(UV) run --frozen pytest tests/fuzz -q -p no:cacheprovider -m fuzz $(ARGS)

chaos: install  ## kill -9 every service, restart PostgreSQL and the broker under a mixed workload; check nothing is lost (writes bench-results/chaos.json): make chaos CHAOS_SEED=7 ARGS="--scale 0.25"
	@$(UV) run --frozen python -m tests.chaos $(if $(CHAOS_SEED),--seed $(CHAOS_SEED)) $(ARGS)

asyncapi: install  ## write each service's AsyncAPI document to docs/asyncapi/
	@mkdir -p docs/asyncapi
	@for s in ledger authorization funding payout reconciliation; do \
	  $(UV) run --frozen python -m clearway.contracts.asyncapi --service $$s --out docs/asyncapi/$$s.json; done

schemas: install  ## re-export the committed event JSON Schemas (additive changes only!)
	@$(UV) run --frozen python -m clearway.contracts.schemas --write libs/contracts/schemas

clean:
	rm -rf .clearway .tools bench-results .pytest_cache .mypy_cache .ruff_cache
