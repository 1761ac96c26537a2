# rebalance-executor — every target sets itself up from nothing (venvs, installs).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell scripts/find-python.sh)
PY313 := $(shell scripts/find-python.sh --require-313)
VENV := .venv
VENV_SAM := .venv-sam
# Lambda's runtime client for `make lambda-local`, on the runtime's Python (3.13), outside the
# artifact: the managed runtime provides it on Lambda (docs/deploy.md).
VENV_RT := .venv-rt
AWSLAMBDARIC := awslambdaric==4.2.2
# The emulator binary inside the aws-sam-cli package (whichever Python .venv-sam was made with).
RIE_GLOB := $(VENV_SAM)/lib/python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64
BIN := $(VENV)/bin
SAM := $(VENV_SAM)/bin/sam
STAMP := $(VENV)/.installed-stamp
SAM_STAMP := $(VENV_SAM)/.installed-stamp
RT_STAMP := $(VENV_RT)/.installed-stamp
# sam build's python workflows look for python3.13 (the Runtime) on PATH; pyenv's bare shim does not work.
SAM_PATH := $(if $(PY313),$(dir $(PY313)):)$(PATH)
PIP_FLAGS := --quiet --disable-pip-version-check
EVENT ?= events/rebalance_planned.json
PYTEST_ARGS ?=
# make lambda-local: cold starts measured (the first executes the plan, the rest are redeliveries),
# the INIT budget (SPEC §9) checked against their median, the ExecutionPolicy parameter.
COLD_STARTS ?= 3
MAX_INIT_MS ?= 1000
LOCAL_POLICY ?= market
# `make sim SIM_HOST=0.0.0.0` lets a `sam local invoke` container reach the simulator.
SIM_HOST ?= 127.0.0.1
SIM_PORT ?= 8765

.PHONY: bench-streams help setup run test lint typecheck template pytest bench invoke build lambda-local sim clean

help:
	@echo "make run    - execute the sample plan end to end on the embedded simulator + local AWS"
	@echo "make test   - lint, type-check, template checks, sam build, every test"
	@echo "make bench  - execution-quality benchmark (SPEC §8)"
	@echo "make lambda-local - the built artifact under Lambda's emulator + awslambdaric (no Docker)"
	@echo "make invoke EVENT=events/... - sam local invoke (needs Docker) with events/env.local.json"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "no python >= 3.11 found"; exit 1; }
	@echo "creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[dev]'
	@touch $@

$(SAM_STAMP):
	@test -n "$(PYTHON)" || { echo "no python >= 3.11 found"; exit 1; }
	$(if $(PY313),$(PY313),$(PYTHON)) -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(VENV_SAM)/bin/python -m pip install $(PIP_FLAGS) aws-sam-cli
	@touch $@

$(RT_STAMP):
	@test -n "$(PY313)" || { echo "the Lambda runtime client needs Python 3.13"; exit 1; }
	$(PY313) -m venv $(VENV_RT)
	$(VENV_RT)/bin/python -m pip install $(PIP_FLAGS) '$(AWSLAMBDARIC)'
	@touch $@

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/rebalance-executor run

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/python scripts/check_module_size.py

typecheck: $(STAMP)
	$(BIN)/mypy

template: $(STAMP) $(SAM_STAMP) build
	$(BIN)/cfn-lint template.yaml
	PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0 $(SAM) validate --lint
	$(BIN)/checkov --config-file .checkov.yaml

# sam build + the artifact check; a prerequisite of both `template` and `lambda-local`, so
# `make test` builds once.
build: $(STAMP) $(SAM_STAMP)
	PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0 $(SAM) build --build-in-source
	$(BIN)/python scripts/check_built_artifact.py .aws-sam/build

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck template lambda-local pytest

bench: $(STAMP)
	$(BIN)/rebalance-executor bench --all --seeds 30 --json out/bench.json --png out/bench.png --markdown out/bench.md

# Streams on vs off (issue 17), smart on the same held-out seeds: requests per order, peak
# requests per minute and reaction latency. Streams-on runs wait for real frames: ~5 min.
STREAMS_SET = --scenario scenarios/scale_10.json --scenario scenarios/liquid-1tick.json --scenario scenarios/scale_200.json
bench-streams: $(STAMP)
	$(BIN)/rebalance-executor bench $(STREAMS_SET) --seeds 5 --policies smart --streams off --json out/bench_streams_off.json --markdown out/bench_streams_off.md
	$(BIN)/rebalance-executor bench $(STREAMS_SET) --seeds 5 --policies smart --streams on --json out/bench_streams_on.json --markdown out/bench_streams_on.md

# Needs Docker. The container reaches the simulator and local AWS on the host through
# host.docker.internal (mapped explicitly for Linux engines); see docs/deploy.md.
# The sample's timestamp is re-stamped to now (plan_id kept) so it is not REJECTED as stale.
invoke: $(STAMP) $(SAM_STAMP)
	@docker info >/dev/null 2>&1 || { echo "make invoke needs a running Docker engine"; exit 1; }
	PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0 $(SAM) build --build-in-source
	$(BIN)/rebalance-executor restamp $(EVENT) --out .aws-sam/invoke-event.json
	PATH="$(SAM_PATH)" SAM_CLI_TELEMETRY=0 $(SAM) local invoke RebalanceExecutorFunction \
		-e .aws-sam/invoke-event.json --env-vars events/env.local.json --parameter-overrides LocalEmulation=true \
		--add-host host.docker.internal:host-gateway

# The built artifact under Lambda's Runtime Interface Emulator (from the aws-sam-cli package)
# with the real awslambdaric client: SPEC §3.5, docs/deploy.md. Skips without Python 3.13.
lambda-local: build $(if $(PY313),$(RT_STAMP))
	@if [ -z "$(PY313)" ]; then \
		echo "lambda-local: SKIPPED, no Python 3.13 (the Lambda runtime) on this machine"; \
	else \
		$(BIN)/python scripts/lambda_local.py .aws-sam/build --rie $$(ls $(RIE_GLOB) | head -n 1) \
			--runtime-python $(VENV_RT)/bin/python --cold-starts $(COLD_STARTS) \
			--max-init-ms $(MAX_INIT_MS) --policy $(LOCAL_POLICY); \
	fi

sim: $(STAMP)
	$(BIN)/rebalance-executor sim serve --host $(SIM_HOST) --port $(SIM_PORT)

# Called by `sam build` (BuildMethod: makefile): the handler package and its runtime
# dependencies only — the simulator and dev tools never ship. Wheels for the function's
# architecture (x86_64, template.yaml) up to the python3.13 runtime's glibc 2.34; pip does not
# expand a manylinux tag to older ones, so each is listed. Versions are pinned to the ones the
# test suite ran with (.venv), so the artifact ships exactly what was tested.
# Then (docs/deploy.md, "Cold start"): drop what the handler never imports (cli/, reporting/,
# bench/, the dependencies' test suites) and precompile every module with Python 3.13 as
# unchecked-hash .pyc — Lambda's code directory is read-only, so without them every cold start
# recompiles ~1,200 modules. -s/-p record /var/task paths (Lambda's LAMBDA_TASK_ROOT) in code
# objects, so tracebacks name the deployed files rather than this machine's build directory.
LAMBDA_PLATFORMS := $(foreach v,2014 _2_17 _2_24 _2_26 _2_27 _2_28 _2_31 _2_34,--platform manylinux$(v)_x86_64)
LAMBDA_UNUSED := rebalance_executor/cli rebalance_executor/reporting rebalance_executor/bench \
	pandas pandas.libs pandas-*.dist-info numpy numpy.libs numpy-*.dist-info bin
# alpaca-py imports pandas and numpy at module level for DataFrame helpers the handler never
# calls: the artifact carries small stand-ins that fail loudly if used (docs/deploy.md).
LAMBDA_STUBS := packaging/lambda-stubs
build-RebalanceExecutorFunction: $(STAMP)
	$(BIN)/python scripts/lambda_requirements.py > "$(ARTIFACTS_DIR)/requirements.txt"
	$(BIN)/python scripts/lambda_requirements.py --constraints > "$(ARTIFACTS_DIR)/constraints.txt"
	$(BIN)/python -m pip install $(PIP_FLAGS) --target "$(ARTIFACTS_DIR)" \
		$(LAMBDA_PLATFORMS) --implementation cp --python-version 3.13 --only-binary=:all: \
		-r "$(ARTIFACTS_DIR)/requirements.txt" -c "$(ARTIFACTS_DIR)/constraints.txt"
	rm -f "$(ARTIFACTS_DIR)/requirements.txt" "$(ARTIFACTS_DIR)/constraints.txt"
	cp -r src/rebalance_executor "$(ARTIFACTS_DIR)/"
	cd "$(ARTIFACTS_DIR)" && rm -rf $(LAMBDA_UNUSED)
	cp -r $(LAMBDA_STUBS)/* "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)" -name '__pycache__' -type d -prune -exec rm -rf {} +
	@if [ -n "$(PY313)" ]; then \
		echo "precompiling the artifact (Python 3.13, unchecked-hash)"; \
		$(PY313) -m compileall -q -j 0 --invalidation-mode unchecked-hash \
			-s "$(ARTIFACTS_DIR)" -p /var/task "$(ARTIFACTS_DIR)" >/dev/null; \
	else \
		echo "WARNING: no Python 3.13: the artifact is NOT precompiled (cold start ~2.5 s, docs/deploy.md)"; \
	fi

clean:
	rm -rf $(VENV) $(VENV_SAM) $(VENV_RT) .aws-sam .mypy_cache .ruff_cache .pytest_cache out
