# Every target creates .venv itself when it is missing: nothing to install by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv vendor vendor-pull generate check-generated test lint contract mock bench bench-deps clean system-deps

help:
	@echo "make contract   generate if needed, run the contract suite against the mocks (TARGET=mock|live, NOVAPOST_URL=, SHIPYO_URL=)"
	@echo "make test       every test: lint, type checks, unit, mock and consumer-side tests"
	@echo "make vendor     rebuild specs/novapost/openapi.json from specs/novapost/pages/, print the API changelog"
	@echo "make vendor-pull  fetch the docs pages from the portal, then vendor (PORTAL=, FORMAT=, FAIL_ON=)"
	@echo "make generate   regenerate generated/ from specs/"
	@echo "make mock       serve the mock servers (Nova Post :8010, Shipyo :8020)"
	@echo "make bench      benchmarks and the fault-injection soak"
	@echo "make lint       ruff and mypy --strict on the hand-written code"
	@echo "make clean      remove .venv, caches and reports"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

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

test: lint system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
	rm -rf $(VENV) reports .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
