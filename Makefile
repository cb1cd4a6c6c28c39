# lrtiers: `make demo` runs the main job, `make test` runs every test.
# Both start with `make setup`, which installs whatever is missing (idempotent).
SHELL := /bin/bash
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
export LRTIERS_PYTHON := $(PY)
export RETICULATE_PYTHON := $(PY)

.PHONY: setup demo test test-python test-r test-parity bench bench-big lint clean

setup:
	@bash tools/setup.sh

demo: setup
	$(PY) -m lrtiers.demo
	@if [ -f DESCRIPTION ]; then Rscript inst/demo/crop_yields.R; fi

test: setup test-python test-r test-parity

test-python:
	$(VENV)/bin/ruff check python tests benchmarks inst/python/lrtiers_torch_shield.py
	$(PY) -m mypy  # every module of the package: see [tool.mypy] in pyproject.toml
	$(PY) -m pytest -q tests/python

test-r:
	@if [ -f DESCRIPTION ]; then bash tools/check_r.sh; else echo "no R package yet"; fi

# R = Python bit for bit (rpy2-embedded R and Rscript); needs the R package test-r installed
test-parity:
	$(PY) -m pytest -q tests/parity

bench: setup
	$(PY) benchmarks/bench.py

# a streamed fit of a file larger than memory where the disk allows it (400M x 10 float64,
# 32 GB); BENCH_BIG_ARGS="--rows 50000000" for a smaller one. Not part of make test.
bench-big: setup
	$(PY) benchmarks/bench_big.py $(BENCH_BIG_ARGS)

lint:
	$(VENV)/bin/ruff check python tests benchmarks inst/python/lrtiers_torch_shield.py

clean:
	rm -rf lrtiers.Rcheck lrtiers_*.tar.gz .pytest_cache
