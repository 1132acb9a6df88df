# `make help` lists the targets. Every target sets itself up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup lock run test test-full report nightly clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml setup.py requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: 2.13.0 is the local CPU wheel here; anything looser pulls CUDA.
	$(PY) -m pip install --quiet "torch==2.13.0"
	# Then the locked versions of everything else, so that every set-up runs the same code.
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install the project at the locked versions (again when the lock changes)

lock: ## refresh requirements.lock from pyproject.toml's ranges (torch stays pinned apart), on purpose
	$(PY) -m pip install --quiet "pip-tools>=7.4"
	$(PY) -m piptools compile --quiet --upgrade --extra dev --strip-extras --unsafe-package torch \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

run: $(STAMP) ## run the main job on the embedded default (ARGS="model=logreg ..." to override)
	$(PY) -m bench $(ARGS)

test: $(STAMP) ## the fast test suite
	$(PY) -m pytest -m "not slow" -q

test-full: $(STAMP) ## every test, the slow ones too
	$(PY) -m pytest -q

report: $(STAMP) ## tables and the leaderboard from every stored result row
	$(PY) -m bench.report

nightly: $(STAMP) ## the nightly leaderboard: sweep experiment=nightly (tables) and nightly_images, the reproductions at their nightly budget, then results/leaderboard/ (offline)
	$(PY) scripts/nightly.py $(ARGS)

clean: ## remove the virtualenv, results and caches
	rm -rf $(VENV) results/rows results/artifacts results/locks results/tables results/hydra results/nightly .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
