# Every target creates .venv itself when it is missing: nothing to install by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# the client generator pins an older httpx: it lives in an environment of its own
GEN_VENV  := .venv-generate
GEN_STAMP := $(GEN_VENV)/.installed-stamp
# the lowest versions the ranges allow (make test-lowest)
LOW_VENV  := .venv-lowest
LOW_STAMP := $(LOW_VENV)/.installed-stamp
LOCK_ARGS := --python-version 3.11 --universal --quiet
LOW_EXTRAS := --extra mock --extra contract --extra redis --extra test --extra aiohttp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv lock vendor vendor-pull generate check-generated test test-lowest lint contract mock bench bench-deps clean system-deps

help:
	@echo "make contract   generate if needed, run the contract suite against the mocks (TARGET=mock|live, NOVAPOST_URL=, SHIPYO_URL=)"
	@echo "make test       every test: lint, type checks, unit, mock and consumer-side tests"
	@echo "make vendor     rebuild specs/novapost/openapi.json from specs/novapost/pages/, print the API changelog"
	@echo "make vendor-pull  fetch the docs pages from the portal, then vendor (PORTAL=, FORMAT=, FAIL_ON=)"
	@echo "make generate   regenerate generated/ from specs/"
	@echo "make mock       serve the mock servers (Nova Post :8010, Shipyo :8020)"
	@echo "make bench      benchmarks and the fault-injection soak"
	@echo "make lint       ruff and mypy --strict on the hand-written code"
	@echo "make lock       refresh requirements/*.lock from pyproject.toml (newest and lowest versions)"
	@echo "make test-lowest  the wrapper and mock suites on the lowest versions the ranges allow"
	@echo "make clean      remove .venv, caches and reports"

# The development environment is what requirements/dev.lock says (what CI tested);
# `make lock` refreshes the locks after a change of ranges in pyproject.toml.
$(STAMP): requirements/dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

$(GEN_STAMP): requirements/generate.lock $(STAMP)
	@test -x $(GEN_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(GEN_VENV)
	$(BIN)/uv pip sync --quiet --python $(GEN_VENV)/bin/python requirements/generate.lock
	@touch $(GEN_STAMP)

$(LOW_STAMP): requirements/lowest.lock pyproject.toml $(STAMP)
	@test -x $(LOW_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(LOW_VENV)
	$(BIN)/uv pip sync --quiet --python $(LOW_VENV)/bin/python requirements/lowest.lock
	$(BIN)/uv pip install --quiet --python $(LOW_VENV)/bin/python --no-deps -e .
	@touch $(LOW_STAMP)

venv: $(STAMP) $(GEN_STAMP)

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o requirements/dev.lock
	$(BIN)/uv pip compile requirements/generate.in $(LOCK_ARGS) -o requirements/generate.lock
	$(BIN)/uv pip compile pyproject.toml $(LOW_EXTRAS) --resolution lowest-direct $(LOCK_ARGS) -o requirements/lowest.lock

# Both print the API changelog against the spec they replace, and the generated client's
# changes (CLIENT= to skip them). FORMAT=text|markdown|json; FAIL_ON=breaking|client|server|any
# exits 3 when such a change is found.
CLIENT ?= generated/novapost_client
VENDOR_ARGS = $(if $(CLIENT),--client $(CLIENT)) $(if $(FORMAT),--format $(FORMAT)) $(if $(FAIL_ON),--fail-on $(FAIL_ON))

vendor: venv
	$(BIN)/python -m tools.vendor $(VENDOR_ARGS)

# The API reference pages listed in specs/novapost/pages.toml, from the portal's /llms.txt
# index, into specs/novapost/pages/ (all or nothing, with manifest.json), then vendored.
# PORTAL=URL (or NOVAPOST_PORTAL) reads another portal.
vendor-pull: venv
	$(BIN)/python -m tools.vendor pull $(if $(PORTAL),--portal $(PORTAL)) $(VENDOR_ARGS) $(PULL_ARGS)

generate: venv
	$(BIN)/python -m tools.generate

check-generated: venv
	$(BIN)/python -m tools.vendor --check
	$(BIN)/python -m tools.generate --check

lint: venv
	$(BIN)/ruff check wrapper mocks tools tests contract_tests bench
	$(BIN)/ruff format --check wrapper mocks tools tests contract_tests bench
	$(BIN)/mypy

# Both cores (pytest-xdist): most tests wait on servers and subprocesses, so two
# workers halve the time; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: lint system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The wrapper and mock suites again, on the lowest versions pyproject.toml admits.
# On both cores (pytest-xdist): about a minute.
LOWEST_PYTEST_ARGS ?= -n 2
test-lowest: $(LOW_STAMP)
	$(LOW_VENV)/bin/python -m pytest tests/wrapper tests/mocks $(LOWEST_PYTEST_ARGS)

# Debian packages some tests use (headless Chromium renders the contract report;
# redis-server backs the shared token-cache tests), each named like the command it
# installs; the missing ones are installed when apt-get can, otherwise those tests
# skip, saying why.
SYSTEM_PACKAGES := chromium redis-server
system-deps:
	@sh tools/apt-install.sh "the tests that need them will skip" $(SYSTEM_PACKAGES)

# TARGET=mock|url|live, NOVAPOST_URL=, SHIPYO_URL=, MAX_EXAMPLES=, SEED= are read from the environment.
contract: venv
	@$(BIN)/python -m tools.generate --check >/dev/null 2>&1 || $(BIN)/python -m tools.generate
	$(BIN)/python -m carriers_contract

MOCK_HOST     ?= 127.0.0.1
NOVAPOST_PORT ?= 8010
SHIPYO_PORT   ?= 8020

# Serves both mocks until interrupted; FIXTURES=file.json to seed your own data.
mock: venv
	$(BIN)/python -m carrier_mocks --host $(MOCK_HOST) --novapost-port $(NOVAPOST_PORT) --shipyo-port $(SHIPYO_PORT) $(if $(FIXTURES),--fixtures $(FIXTURES))

# The load generator of bench's prism section (Debian's wrk), installed when apt-get can;
# otherwise that section says it is missing. Prism itself comes from npm, into .cache/prism/.
BENCH_PACKAGES := wrk
bench-deps:
	@sh tools/apt-install.sh "the bench rows that need them will say so" $(BENCH_PACKAGES)

# Starts its own mocks; prints the figures beside their targets, writes reports/bench.json.
# BENCH_ARGS="--only prism" runs some sections (python -m bench --help).
bench: venv bench-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(GEN_VENV) $(LOW_VENV) reports .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
