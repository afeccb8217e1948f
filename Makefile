# The two commands of the README: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
INSTALLED = $(VENV)/.installed

.PHONY: demo test lint bench install

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/shelter-match demo

lint: $(INSTALLED)
	$(BIN)/ruff check .

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(INSTALLED)
	$(BIN)/python bench/solver.py
