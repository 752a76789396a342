# One entry point for a fresh machine: `make run`, `make test`, `make bench`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

# Python >= 3.12: python3.13, python3.12, then pyenv's; PYTHON=... overrides.
# Each candidate is run (not just found), because pyenv shims exist for versions
# that are not active.
define find_python
for p in python3.13 python3.12 python3; do \
  if "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
    command -v "$$p"; exit 0; fi; done; \
root=$$(pyenv root 2>/dev/null); \
for p in "$$root"/versions/3.13*/bin/python3 "$$root"/versions/3.12*/bin/python3; do \
  if [ -x "$$p" ]; then echo "$$p"; exit 0; fi; done
endef
PYTHON ?= $(shell $(find_python))

PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: help venv run test lint typecheck pytest test-deps screenshots bench clean

help:
	@echo "make run    - set up and serve the dashboard on its sandbox (127.0.0.1:8000), with its worker"
	@echo "make test   - set up and run lint, type checks and every test"
	@echo "make bench  - compare modelsclient with the official openai package, and the"
	@echo "              catalogue's sync, list query and list page with Django admin's changelist,"
	@echo "              and time a deletion job of 200 models against its ideal"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python >= 3.12 found (tried python3.13, python3.12, python3, pyenv)." >&2; \
	  echo "       Install one, or pass PYTHON=/path/to/python3.12 to make." >&2; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(STAMP)

# The dashboard on its embedded sandbox: migrate, seed (once; deletes persist), demo users,
# then settle deletes a crash left pending or the API left unknown; then the web server and the
# task worker (catalogue refreshes) together: `manage.py serve` stops both on Ctrl-C.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_sandbox --if-empty
	$(PY) manage.py setup_demo
	$(PY) manage.py reconcile_audit
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Models Dashboard: http://127.0.0.1:$(PORT)/ and its task worker  (Ctrl-C stops both)"
	$(PY) manage.py serve 127.0.0.1:$(PORT)

# Test tools from Debian, installed when missing (needs root, as in CI): Chromium for the
# browser tests, redis-server for the shared-cache test. PostgreSQL's server binaries come
# with this kind of machine; the PostgreSQL test skips where they are absent.
TEST_DEBS := $(if $(wildcard $(CHROMIUM)),,chromium fonts-dejavu-core) \
             $(if $(shell command -v redis-server),,redis-server)
test-deps:
	@if [ -n "$(strip $(TEST_DEBS))" ]; then \
	  echo "Installing for the tests: $(strip $(TEST_DEBS)) (apt-get)..."; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: run as root, or: sudo apt-get install -y $(strip $(TEST_DEBS))" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(strip $(TEST_DEBS)) >/dev/null; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) test-deps
	$(PY) -m pytest --durations=15 $(PYTEST_ARGS)

# Regenerate the README's screenshots (small PNGs under docs/screenshots/).
screenshots: $(STAMP) test-deps
	SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest tests/browser -q

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/bench_client.py
	$(PY) bench/bench_catalogue.py
	$(PY) bench/bench_jobs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
