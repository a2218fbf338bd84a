# itip: `make run` builds the warehouse from raw/, `make test` runs every check.
# Both set themselves up first: a project virtualenv in .venv, made by uv from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

# No interpreter downloads by uv: everything comes from the package index. (Prefect's telemetry
# is off in every itip process, itip.server.TELEMETRY_OFF, and for `prefect` here, prefect.toml.)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help setup run test unit lint typecheck pytest fields clean browser duckdb1x bench-overhead bench-respondents bench-check bench-report bench serve

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every package's .pyc is written once here. Without it, a machine with
# PYTHONDONTWRITEBYTECODE set (CI containers often have it) compiles Prefect, pandas, scipy and
# statsmodels from source in every process: 4-5 s more for each `itip` command and test process.
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced ## Create .venv with the locked dependencies
	@$(BIN)/python -m compileall -q -j 0 itip flows schemas >/dev/null

run: setup ## Build warehouse/itip.duckdb from the bundled raw/ files
	$(BIN)/itip ingest
	@echo 'Try: $(BIN)/itip trend trust_personal_data_safe'

fields: setup ## Write the SQL COMMENTs and the README's table of tables from itip/fields.py and itip/tables.py
	$(BIN)/python -m itip.fields_render

lint: setup ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup ## mypy
	$(BIN)/mypy

# Debian's chromium, for the report's browser test. Never fails: without apt (or root)
# the test reports itself as skipped with the reason.
browser: ## Install Chromium for the browser test, if missing and apt is available
	@if [ -x /usr/bin/chromium ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then echo "browser: no apt-get; the browser test will be skipped"; \
	else SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	  { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; } \
	  || echo "browser: could not install chromium; the browser test will be skipped"; fi

# The newest DuckDB 1.x wheel from the package index in its own environment: the test
# that 1.x clients open the warehouse and the Parquet files uses it (tests/integration/test_reach.py).
DUCKDB1X := $(TOOLS)/duckdb1x
$(DUCKDB1X)/bin/python: | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(DUCKDB1X)
	$(UV) pip install --quiet --python $(DUCKDB1X)/bin/python "duckdb>=1,<2"

duckdb1x: $(DUCKDB1X)/bin/python ## Install the newest DuckDB 1.x into .tools/duckdb1x (for the compatibility test)

# Two workers (pytest-xdist): the slow tests mostly wait on other processes, so they overlap well.
# PYTEST_WORKERS=auto uses every core; PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
# Whole test files to a worker, the longest first (the order: tests/timings.py and timings.json).
PYTEST_DIST := --dist loadfile --no-loadscope-reorder

pytest: setup browser duckdb1x ## The test suite only (in parallel: PYTEST_WORKERS, default 2)
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_DIST) --durations=20

test: lint typecheck pytest ## Lint, type check and the test suite

unit: setup ## The unit tests only (pure functions, no Prefect, process or server): the inner loop
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_DIST) tests/unit

bench-overhead: setup ## Benchmark: no-op ingest (warm background server) against importing Prefect (prints figures)
	$(BIN)/python bench/overhead.py

bench-check: setup ## Benchmark: itip check of a small file against importing pandas and duckdb (prints figures)
	$(BIN)/python bench/check.py

bench-report: setup ## Benchmark: report rebuild cold, with nothing changed, and after one new release (prints figures)
	$(BIN)/python bench/report.py

bench: bench-check bench-overhead bench-report ## The quick benchmarks (bench-respondents is separate: slow)

bench-respondents: setup ## Benchmark: 1,000,000 respondents through the flow vs bare DuckDB (slow, prints figures)
	$(BIN)/python bench/respondents.py

serve: setup ## Run the ingest daily at 06:00 Europe/Oslo until Ctrl-C (local Prefect server)
	$(BIN)/itip serve

clean: ## Remove the virtualenvs, the built warehouse and its report
	rm -rf $(VENV) $(TOOLS) warehouse/itip.duckdb warehouse/itip.duckdb.wal warehouse/report warehouse/itip.parquet warehouse/export
