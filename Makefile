# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test test-slow test-contract demo fleet-demo lint install clean readme definitions

install: $(STAMP)

$(STAMP): pyproject.toml magerest/version.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,fleet]'
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The contract suite alone: against the sandbox, or the store MAGENTO_CONTRACT_* names
# (README, "Contract suite"); its header line says which.
test-contract: $(STAMP)
	$(PY) -m pytest tests/contract $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -q --run-slow $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check magerest tap_magento2 target_dropstream magento2_sandbox dropstream_fleet tests scripts bench packaging
	$(VENV)/bin/ruff format --check magerest tap_magento2 target_dropstream magento2_sandbox dropstream_fleet tests scripts bench packaging

demo: $(STAMP)
	@$(PY) -m scripts.demo

# Three sandbox stores (one healthy, one slow, one down) through the fleet on Dagster, into a
# throwaway PostgreSQL database, twice (README, "Scaling out").
fleet-demo: $(STAMP)
	@$(PY) -m dropstream_fleet.demo

readme: $(STAMP)
	$(PY) -m scripts.readme_settings

# The Meltano plugin definition files in plugins/, from the plugins' code.
definitions: $(STAMP)
	$(PY) -m scripts.plugin_definitions

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Benchmark against the raw limits (BENCH_ARGS="--runs 2", "--large"; see README, Performance),
# then what reading open orders back from Magento costs per run (10,000 open orders).
.PHONY: bench
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

