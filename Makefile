# Taskwire's interface for humans and CI: the make targets are how everything is run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The stack profile the stack targets act on: dev unless given (`make start PROFILE=cluster`).
PROFILE ?= dev
STACK := $(PY) -m stack
TEST_DIRS := $(wildcard tests/unit tests/integration tests/e2e)

# pip-compile's options for both lock files: exact pins with hashes, pip and setuptools included
# (pip-tools needs them), no local index or wheel folder written into the files.
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest version pyproject.toml allows.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --allow-unsafe \
	--generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: venv lock lint infra up start stop status test superuser migrate logs bench chaos rotate-signing-key compose-test compose-images

venv: $(STAMP)

# The exact versions of requirements-dev.lock, then the project itself (editable, no dependencies:
# the lock has them all). Reinstalls when the lock or the project's own metadata changed.
$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# Both lock files from pyproject.toml: the dev lock (runtime and dev extras) first, then the runtime
# lock held to it, so the two never name different versions of a runtime package. Pins already in
# a file stay where pyproject.toml still allows them.
lock: venv
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev -o requirements-dev.lock pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) -c requirements-dev.lock -o requirements.lock pyproject.toml

# ruff and mypy as pyproject.toml configures them; both run, and either failing fails the target.
lint: venv
	@status=0; \
	$(PY) -m ruff check . || status=1; \
	$(PY) -m mypy || status=1; \
	exit $$status

infra:
	scripts/ensure-infra.sh

up: venv infra
	$(STACK) up --profile $(PROFILE)

start: venv infra
	$(STACK) start --profile $(PROFILE)

stop: venv
	$(STACK) stop --profile $(PROFILE)

status: venv
	$(STACK) status --profile $(PROFILE)

migrate: venv infra
	$(STACK) migrate --profile $(PROFILE)

logs: venv
	$(STACK) logs --profile $(PROFILE)

superuser: venv infra
	@test -n "$(USERNAME)" -a -n "$(PASSWORD)" -a -n "$(EMAIL)" || \
		{ echo "usage: make superuser USERNAME=... PASSWORD=... EMAIL=..."; exit 2; }
	$(STACK) migrate --profile $(PROFILE)
	@$(STACK) run --profile $(PROFILE) users_svc -- flask --app users_svc.wsgi:app create-superuser \
		--username '$(USERNAME)' --password '$(PASSWORD)' --email '$(EMAIL)' --no-input

# A new token signing key for the dev stack's users_svc: new tokens use it at once, tokens signed by the
# older keys verify until they expire (docs/security.md: rotation, retiring a key, production).
rotate-signing-key: venv
	$(STACK) run --profile $(PROFILE) users_svc -- $(PY) -m users_svc.signing_keys rotate

test: venv infra
	$(PY) -m pytest $(TEST_DIRS)

# The whole system in containers, on images built here from Debian's packages (docs/containers.md): starts a
# Docker engine if none runs (installing docker.io if missing; stopped afterwards only if started here), builds,
# runs, scales, restarts a service and takes everything down. As root.
compose-test: venv
	$(PY) -m pytest -v -s -p no:cacheprovider tests/compose

# The images docker-compose.local.yml names, built here (the engine started if none runs, and left running).
compose-images: venv
	$(PY) -m harness.compose

# The benchmarks on their own stack (the bench profile); wrk comes from the OS packages.
bench: venv infra
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || \
		{ echo "bench: install wrk (Debian: apt-get install wrk)"; exit 1; }
	$(PY) -m bench $(BENCH_ARGS)

# The long fault run, the long API fuzz and the soak, on their own stack (the chaos profile).
chaos: venv infra
	$(PY) -m chaos $(CHAOS_ARGS)
