# Two commands for a fresh clone: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch, from the local wheel cache where there is one; any torch>=2.2 works.
TORCH_CPU ?= torch==2.13.0

.PHONY: demo test lint stubs

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; \
		then $(PY) -m pip install -q torch; else $(PY) -m pip install -q $(TORCH_CPU); fi
	$(PY) -m pip install -q -e ".[dev,notebooks,lessons,sandbox,cluster]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m grader demo

test: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check grader tests exercises/conftest.py exercises/test_sgd.py

stubs: $(VENV)/.installed
	$(PY) -m grader stubs
	$(PY) -m grader notebook
