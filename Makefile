# The two commands of the README: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
INSTALLED = $(VENV)/.installed
# `make demo` installs only what serving needs; the test tools come with `make test` (extra "dev").
SERVING = $(VENV)/.installed-serving
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: demo test test-fast check lint bench install browser deploy-tools translations

$(SERVING): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(SERVING)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(SERVING) $(INSTALLED)

install: $(INSTALLED)

# `make demo PORT=8080` (and HOST=…) to serve elsewhere.
demo: $(SERVING)
	$(BIN)/shelter-match demo --host $(HOST) --port $(PORT)

lint: $(INSTALLED)
	$(BIN)/ruff check .

# Static checks: ruff everywhere, mypy --strict on solver/ and shelter_match/ (pyproject.toml).
check: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The edit-test loop: SQLite only, no browser, no live servers or fuzzing (marked slow).
# `make test` runs everything on both engines before a commit is shared.
test-fast: $(INSTALLED)
	SHELTER_MATCH_TEST_BACKENDS=sqlite $(BIN)/pytest -q -n 2 -m "not slow"

# The browser tests drive Debian's Chromium (never a downloaded browser) and inject axe-core
# from the npm registry. Installing needs root (CI runs as root); when it cannot be done the
# browser tests skip locally and fail in CI (CI=true), so nothing passes by being skipped.
CHROMIUM = /usr/bin/chromium
# npm gives files the dates in the package, so a stamp of our own says when it was installed.
AXE = tests/browser/node_modules/.installed

$(CHROMIUM):
	-apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	-npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && touch $(AXE)

browser: $(CHROMIUM) $(AXE)

# The deployment tests run the shipped files with the tools that read them: age for the
# backups, nginx for the proxy (with openssl for a test certificate), systemd-analyze for
# the units. Debian's packages, like Chromium: skipped locally when they cannot be
# installed, a failure in CI. nginx only runs inside the tests, on their own ports: a
# system nginx the package may start is stopped again.
DEPLOY_TOOLS = /usr/bin/age /usr/sbin/nginx /usr/bin/openssl /usr/bin/systemd-analyze

$(DEPLOY_TOOLS):
	-apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age nginx-light openssl systemd
	-systemctl disable --now nginx >/dev/null 2>&1

deploy-tools: $(DEPLOY_TOOLS)

# Regenerate the message catalogues after changing texts in web/ (then translate the nl file).
translations: $(INSTALLED)
	$(BIN)/pybabel extract -F web/babel.cfg -k _l --no-location --sort-output -w 100 -o web/translations/messages.pot web
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --ignore-obsolete -w 100

test: $(INSTALLED) browser deploy-tools
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadgroup

# The benchmarks; all but the solver's and the places' need PostgreSQL (SHELTER_MATCH_TEST_POSTGRES_URL,
# default postgres@127.0.0.1:5432) and make their own databases. `make bench BENCH_ARGS=--quick`
# for a smoke run. They print medians and p95; docs/performance.md records a run. The outage
# bench runs a private PostgreSQL cluster of its own (initdb, pg_ctl) and stops and freezes it.
BENCH_ARGS ?=
bench: $(INSTALLED)
	$(BIN)/python bench/solver.py $(BENCH_ARGS)
	$(BIN)/python bench/availability.py $(BENCH_ARGS)
	$(BIN)/python bench/placements.py $(BENCH_ARGS)
	$(BIN)/python bench/solidarity.py $(BENCH_ARGS)
	$(BIN)/python bench/places.py $(BENCH_ARGS)
	$(BIN)/python bench/outage.py $(BENCH_ARGS)
