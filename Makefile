# The README's two commands: `make run` and `make test`. Each sets everything up first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
TEXT ?= Great post! Cheap viagra and casino bonuses at http://best-casino-bonus.example.win
.PHONY: setup run test lint

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Until the service exists, the main job scores one comment with the shipped model.
run: setup
	$(BIN)/spamward check "$(TEXT)"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest
