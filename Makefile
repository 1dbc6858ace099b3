# Two entry points: `make demo` and `make test`. Both set everything up first
# (Python venv + Node packages), idempotently.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DEPS := node/node_modules/.package-lock.json

.PHONY: demo test setup bench bench-quick lint typecheck test-py test-node clean

setup: $(VENV)/.installed $(NODE_DEPS)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_DEPS): node/package.json node/package-lock.json
	cd node && npm ci --no-audit --no-fund
	touch $@

demo: setup
	$(PY) examples/quickstart.py
	$(PY) -m rpcbridge compile examples/app/src --outdir build/demo --sourcemap
	$(PY) examples/compile_demo.py

test: setup lint typecheck test-node test-py

test-py: setup
	$(PY) -m pytest

test-node: setup
	cd node && node --test

lint: setup
	$(VENV)/bin/ruff check rpcbridge tests examples benchmarks
	$(VENV)/bin/ruff format --check rpcbridge tests examples benchmarks

typecheck: setup
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m benchmarks

bench-quick: setup
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) node/node_modules .pytest_cache .mypy_cache .ruff_cache
