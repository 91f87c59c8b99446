# Quick start: `make demo` and `make test`. Each target creates .venv and installs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-curves bench-reliability clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m demo

lint: $(STAMP)
	$(BIN)/ruff check syncengine connectors tests bench demo
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.curves

bench-curves: $(STAMP)
	$(BIN)/python -m bench.curves

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-work bench/work bench/work-curves

# kill -9 trials of `syncengine sync` (bench/reliability/); e.g. make bench-reliability ARGS="--pipeline csv --trials 30"
bench-reliability: $(STAMP)
	$(BIN)/python -m bench.reliability $(ARGS)
