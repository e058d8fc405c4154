# Oqu: `make run` sets everything up and serves the site; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test setup install system-packages i18n migrate import-courses lint clean

run: setup
	@bin/serve

test: setup
	@bin/test $(PYTEST_ARGS)

setup: install system-packages i18n migrate import-courses

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "== installing Python packages into $(VENV)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The grading sandbox needs bubblewrap; installed when we are root on Debian or Ubuntu.
system-packages: install
	@bin/system-packages

i18n: install
	@$(FLASK) i18n compile

migrate: install i18n
	@$(FLASK) db upgrade

import-courses: migrate
	@$(FLASK) courses import courses/

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy lms graders
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) instance
