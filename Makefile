# Two entry points: `make demo` and `make test`. Both set everything up first
# (Python venv + Node packages), idempotently.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DEPS := node/node_modules/.package-lock.json

# `make wheel` builds dist/rpcbridge-*.whl for this machine; PLATFORM=darwin-arm64 (linux-x64,
# linux-arm64, darwin-x64, win32-x64, win32-arm64) for another, PLATFORM=none for the
# pure-Python wheel (hatch_build.py).
PLATFORM ?= auto

.PHONY: demo test setup wheel bench bench-quick lint typecheck test-py test-node clean

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

wheel: setup
	$(PY) hatch_build.py --platform $(PLATFORM) --outdir dist

test-py: setup
	$(PY) -m pytest

test-node: setup
	cd node && node --test

lint: setup
	$(VENV)/bin/ruff check rpcbridge tests examples benchmarks hatch_build.py
	$(VENV)/bin/ruff format --check rpcbridge tests examples benchmarks hatch_build.py

typecheck: setup
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m benchmarks

bench-quick: setup
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) node/node_modules .pytest_cache .mypy_cache .ruff_cache build/rpcbridge-node dist
