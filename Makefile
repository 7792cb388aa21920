# The two commands of the README: `make run` and `make test`. Both work on a fresh machine: they
# install what they need (Python packages into .venv; Debian packages with apt-get as root).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest worker processes for `make test` (pytest-xdist). Three on two cores: much of the suite
# waits on Chromium, Celery workers and timeouts rather than computing (docs/architecture.md).
# Tests go to a worker two at a time as it frees up (--maxschedchunk): xdist's default hands
# each worker a quarter of its share at once, and the first worker's quarter was every browser
# test, which it then ran alone for minutes after the other two had finished.
TEST_WORKERS ?= 3
TEST_CHUNK ?= 2
# Python writes its compiled modules (__pycache__, ignored by git) even where the environment
# asks it not to (PYTHONDONTWRITEBYTECODE=1 on some machines): the suite starts dozens of Python
# processes (Celery workers, gunicorn, manage.py), and each compiled the project from source.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: run test install install-dev system-deps messages services lint typecheck pytest clean

## run: install, migrate the SQLite file, seed demo users, serve http://127.0.0.1:8000 with a
## local Celery worker and beat (no Redis needed).
run: install
	@bash .ci/run-embedded.sh

## test: install everything (Python and Debian packages), make sure PostgreSQL and Redis are up,
## then ruff, mypy and the whole pytest suite against the real services and headless Chromium.
## mypy runs at low priority beside the suite, whose first minute leaves a core idle (one worker
## migrates the test template while the others wait); its report is printed after the suite's,
## and either failing fails the target.
test: install-dev system-deps messages
	@mkdir -p var && bash .ci/services.sh > var/test-env.sh && source var/test-env.sh && \
	  $(BIN)/ruff check . && \
	  $(BIN)/ruff format --check . && \
	  { nice -n 10 $(BIN)/mypy . > var/mypy.log 2>&1 & mypy_pid=$$!; \
	    $(BIN)/pytest -n $(TEST_WORKERS) --maxschedchunk $(TEST_CHUNK); pytest_status=$$?; \
	    wait $$mypy_pid; mypy_status=$$?; \
	    echo "mypy (run beside the suite):"; cat var/mypy.log; \
	    [ $$pytest_status -eq 0 ] && [ $$mypy_status -eq 0 ]; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the declared dependencies change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
	@bash .ci/system-deps.sh runtime
	@$(MAKE) --no-print-directory messages

install-dev: $(VENV)/.installed-dev

system-deps:
	@bash .ci/system-deps.sh test

## messages: compile the translation catalogues (locale/*/LC_MESSAGES/*.po → .mo, not in git).
messages:
	@$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=var --ignore=staticfiles -v 0

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
