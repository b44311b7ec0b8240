# cookiecutter-ml-pipeline: the template's own task runner.
# On a fresh machine, `make demo` and `make test` are the whole set-up.
.DEFAULT_GOAL := help
SHELL := /bin/bash

BOOTSTRAP_PYTHON ?= python3.11
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := build/demo
BAKE ?= build/bake
TASK ?= binary_classification

.PHONY: help venv demo bake test bench lint format-project reserved-names clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt constraints.txt
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(STAMP) ## Create .venv with the pinned tools (torch 2.13.0 CPU, see constraints.txt)

demo: $(STAMP) ## Bake the default project into build/demo, install it, run its whole pipeline
	rm -rf $(DEMO) build/.bake
	$(VENV)/bin/cookiecutter --no-input --output-dir build/.bake .
	mv build/.bake/* $(DEMO) && rm -rf build/.bake
	cd $(DEMO) && git init --quiet && git add -A && \
	  git -c user.name=demo -c user.email=demo@example.com commit --quiet -m "Bake from template"
	# The project's own `make setup` (its .venv), held to the lock so torch stays the CPU wheel.
	PIP_CONSTRAINT=$(abspath constraints.txt) $(MAKE) -C $(DEMO) setup \
	  BOOTSTRAP_PYTHON=$(BOOTSTRAP_PYTHON) PIP_QUIET=1
	$(MAKE) -C $(DEMO) data validate train predict evaluate monitor card

bake: $(STAMP) ## Bake into $(BAKE) (TASK=..., committed to git) to work on the template
	rm -rf $(BAKE) && mkdir -p $(BAKE)
	$(VENV)/bin/cookiecutter --no-input --output-dir $(BAKE) . task=$(TASK)
	cd $(BAKE)/my-ml-project && git init --quiet && git add -A && \
	  git -c user.name=dev -c user.email=dev@example.com commit --quiet -m "Bake from template"
	@echo "baked $(BAKE)/my-ml-project; its tests: cd $(BAKE)/my-ml-project && $(abspath $(PYTHON)) -m pytest -n 2"

test: $(STAMP) ## Run every template test (bakes, generated suites, hooks, adversarial answers)
	$(PYTHON) -m pytest -n 2 --maxschedchunk=1 tests

bench: $(STAMP) ## Run benchmarks/ and write benchmarks/RESULTS.md
	$(PYTHON) benchmarks/run.py --output benchmarks/RESULTS.md

lint: $(STAMP) ## Ruff on the template's own code (hooks, tests, benchmarks) and on a fresh bake
	$(VENV)/bin/ruff check hooks tests benchmarks
	$(VENV)/bin/ruff format --check hooks tests benchmarks
	$(PYTHON) tests/map_back.py --check

format-project: $(STAMP) ## Ruff-fix and format the generated project's Python, written back to the template
	$(PYTHON) tests/map_back.py

reserved-names: $(STAMP) ## After a lock update: rewrite the names the pre-generation hook refuses
	$(PYTHON) hooks/reserved_names.py

clean: ## Remove build/ and caches (keeps .venv)
	rm -rf build .pytest_cache
