# Taskwire's interface for humans and CI (see DESIGN.md, "Running").
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK := $(PY) -m stack
TEST_DIRS := $(wildcard tests/unit tests/integration tests/e2e)

.PHONY: venv infra up start stop status test superuser migrate logs bench chaos

venv: $(STAMP)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

infra:
	scripts/ensure-infra.sh

up: venv infra
	$(STACK) up

start: venv infra
	$(STACK) start

stop: venv
	$(STACK) stop

status: venv
	$(STACK) status

migrate: venv infra
	$(STACK) migrate

logs: venv
	$(STACK) logs

superuser: venv infra
	@test -n "$(USERNAME)" -a -n "$(PASSWORD)" -a -n "$(EMAIL)" || \
		{ echo "usage: make superuser USERNAME=... PASSWORD=... EMAIL=..."; exit 2; }
	$(STACK) migrate
	@$(STACK) run users_svc -- flask --app users_svc.wsgi:app create-superuser \
		--username '$(USERNAME)' --password '$(PASSWORD)' --email '$(EMAIL)' --no-input

test: venv infra
	$(PY) -m pytest $(TEST_DIRS)

# The benchmarks on their own stack (the bench profile); wrk comes from the OS packages.
bench: venv infra
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || \
		{ echo "bench: install wrk (Debian: apt-get install wrk)"; exit 1; }
	$(PY) -m bench $(BENCH_ARGS)

# The long fault run, the long API fuzz and the soak, on their own stack (the chaos profile).
chaos: venv infra
	$(PY) -m chaos $(CHAOS_ARGS)
