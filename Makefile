# swarmcast developer entry points. `make test` on a fresh clone sets everything up first.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Re-run setup when the dependency manifests change.
VENV_STAMP := $(VENV)/.swarmcast-setup
TOOLS_STAMP := .tools/node_modules/.swarmcast-setup
BUF := .tools/node_modules/.bin/buf

.PHONY: help setup proto proto-check buf-lint lint typecheck migrate up down status test demo bench

help:
	@echo "make setup        venv + pip install -e '.[dev]' + buf (npm, repo-local)"
	@echo "make proto        regenerate gen/ from protos/"
	@echo "make lint         ruff + buf lint + generated-code freshness + mypy"
	@echo "make migrate      alembic upgrade head"
	@echo "make up|down|status   the local stack (logs in .run/logs/)"
	@echo "make test         the whole test suite"
	@echo "make demo|bench   the demo run / the benchmarks"
	@echo "make eval         score the stack on eval/questions (TIER=small QUESTIONS=... LIMIT=N)"
	@echo "make images       local Docker images: debootstrap base, host-built wheels, every service"
	@echo "make compose-up|compose-down   deploy/compose.yaml on those images (gateway 127.0.0.1:18080)"

setup: $(VENV_STAMP) $(TOOLS_STAMP)

# llama-cpp-python is built from source: a portable x86-64 build (AVX2, no -march=native), since a
# native build may use instructions a VM advertises but traps (AMX: SIGILL at the first prompt).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

$(VENV_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "pip install -e '.[dev,eval,local-llm]' (the first time, llama-cpp-python compiles for several minutes)"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-input -e '.[dev,eval,local-llm]'
	$(PY) scripts/check_local_llm.py
	touch $@

$(TOOLS_STAMP): .tools/package.json .tools/package-lock.json
	cd .tools && npm ci --no-audit --no-fund --loglevel=error
	$(BUF) --version >/dev/null
	touch $@

proto: $(VENV_STAMP)
	scripts/gen_protos.sh

# Regenerates into a scratch copy of the repo layout and compares with the committed gen/.
proto-check: $(VENV_STAMP)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/scripts"; cp scripts/gen_protos.sh "$$tmp/scripts/"; cp -R protos "$$tmp/protos"; \
	ln -s "$(CURDIR)/$(VENV)" "$$tmp/$(VENV)"; \
	"$$tmp/scripts/gen_protos.sh"; \
	if ! diff -r -x __pycache__ "$$tmp/gen" gen >"$$tmp/diff.txt"; then \
	  cat "$$tmp/diff.txt" | head -50; echo "gen/ is stale: run 'make proto' and commit the result" >&2; exit 1; \
	fi; echo "gen/ is up to date with protos/"

buf-lint: $(TOOLS_STAMP)
	$(BUF) lint protos

lint: $(VENV_STAMP) buf-lint proto-check typecheck
	$(VENV)/bin/ruff check .

# mypy over services/ ([tool.mypy] in pyproject.toml)
typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy

migrate: $(VENV_STAMP)
	$(PY) -m alembic upgrade head

up: $(VENV_STAMP)
	$(PY) -m services.cli.stack up

down: $(VENV_STAMP)
	$(PY) -m services.cli.stack down

status: $(VENV_STAMP)
	$(PY) -m services.cli.stack status

test: $(VENV_STAMP) $(TOOLS_STAMP)
	$(PY) -m pytest -q --durations=25

# Sets up the venv if needed, starts the stack (left running: `make down` stops it), signs in the demo
# user, runs demos/harbor_transit.md on the small tier (TIER=local: a real model on the CPU) and prints
# the forecast and where the report is.
demo: $(VENV_STAMP)
	$(VENV)/bin/swarmcast demo $(if $(TIER),--tier $(TIER))

bench: $(VENV_STAMP)
	$(PY) -m bench.run

# Starts the stack if it is not up, signs in the local eval account, runs the resolved questions of
# QUESTIONS (default the committed public-record set) on TIER (default small) as real jobs, and writes
# eval/results/<date>-<tier>.{json,md,png}. Interrupted? Run it again: it resumes. LIMIT=N: the first N.
.PHONY: eval
eval: $(VENV_STAMP)
	$(VENV)/bin/swarmcast eval $(or $(QUESTIONS),eval/questions/public_record.jsonl) --tier $(or $(TIER),small) \
	  --start-stack --eval-user $(if $(LIMIT),--limit $(LIMIT))

# deploy/compose.yaml on images made on this host, for hosts with no registry (deploy/README.md):
# Debian bookworm bases by debootstrap, wheels built here, no network inside a build. Needs root
# and Docker (started if it is not running). The gateway is published on 127.0.0.1:$(LOCAL_HTTP_PORT),
# beside `make up`'s 8080; the compose project is swarmcast-local.
LOCAL_STACK := deploy/docker/local-stack.sh
LOCAL_HTTP_PORT ?= 18080
.PHONY: wheels images compose-up compose-down
wheels:
	deploy/docker/wheels.sh

images:
	SWARMCAST_LOCAL_HTTP_PORT=$(LOCAL_HTTP_PORT) $(LOCAL_STACK) images

compose-up:
	SWARMCAST_LOCAL_HTTP_PORT=$(LOCAL_HTTP_PORT) $(LOCAL_STACK) up

compose-down:
	SWARMCAST_LOCAL_HTTP_PORT=$(LOCAL_HTTP_PORT) $(LOCAL_STACK) down
