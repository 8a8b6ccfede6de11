"""A profile's stack driven as `python -m stack` does it: start, stop, one-off commands, supervisorctl."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping

from stack import render
from stack.config import OVERRIDABLE, REPO, Profile, process_env

# Settings a caller's environment may hold for another test layer, which a stack must not inherit (the
# integration tests' key file and key directory among them: tasks_svc would verify tokens with those keys).
STACK_SETTINGS = (*OVERRIDABLE, "DATABASE_URL", "JWKS_FILE", "JWT_SIGNING_KEY_DIR")


def without_stack_settings(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environ.items() if name not in STACK_SETTINGS}


class StackRunner:
    """One profile's stack; `environ` is what its commands inherit (this process's environment by default)."""

    def __init__(self, profile: Profile, environ: Mapping[str, str] | None = None, quiet: bool = False):
        self.profile = profile
        self.environ = dict(os.environ if environ is None else environ)
        self.quiet = quiet  # capture the commands' output instead of passing it through

    def run(self, command: str, *args: str) -> float:
        """`python -m stack COMMAND --profile NAME ARGS...`; raises if it fails; returns the seconds it took."""
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "stack", command, "--profile", self.profile.name, *args],
                       cwd=REPO, env=self.environ, check=True, capture_output=self.quiet)
        return time.monotonic() - started

    def start(self) -> float:
        """Returns once every service answers its health check through the gateway."""
        return self.run("start")

    def stop(self) -> float:
        return self.run("stop")

    def create_superuser(self, username: str, password: str, email: str) -> None:
        """An admin made the way a newcomer makes one: users_svc's create-superuser CLI (idempotent)."""
        self.run("run", "users_svc", "--", "flask", "--app", "users_svc.wsgi:app", "create-superuser",
                 "--username", username, "--password", password, "--email", email, "--no-input")

    def supervisorctl(self, *args: str, check: bool = False) -> str:
        return supervisorctl(self.profile, *args, check=check)

    def process_env(self, process: str) -> dict[str, str]:
        """The environment the stack gives one of its processes (from the environment its commands inherit, not
        this process's, which a test layer may have changed since)."""
        return process_env(self.profile, self.profile.process(process), self.environ)

    def database_url(self, process: str) -> str:
        return self.process_env(process)["DATABASE_URL"]

    def amqp_url(self) -> str:
        """What the stack's processes connect to: AMQP_URLS (a cluster's nodes) when set, else AMQP_URL."""
        env = self.process_env("ws_relay")
        return env.get("AMQP_URLS") or env["AMQP_URL"]


def supervisorctl(profile: Profile, *args: str, check: bool = False) -> str:
    """What supervisorctl prints for the profile's supervisord; with `check`, a failure raises."""
    conf = render.supervisor_paths(profile)["conf"]
    command = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=check).stdout
