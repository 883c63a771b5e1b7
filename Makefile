# The README's two commands: `make run` and `make test`. Each sets everything up first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
.PHONY: setup run test lint

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml model/_sums.pyx
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The main job: the service on its defaults (SQLite in ./instance, the shipped model, port 8000).
run: setup
	$(BIN)/spamward serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest
