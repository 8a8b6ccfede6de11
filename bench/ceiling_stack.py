"""Runs the ceiling (bench/ceiling.py) beside a bench stack: its own gunicorn and its own nginx.

The nginx is rendered from the gateway's own template with the profile's own values, except that
it listens on the gateway's port + 50 and sends /api/tasks/, /api/notifications/ and /ws/ to the
ceiling app (on the gateway's port + 51) instead of tasks_svc and notify_svc. The app runs under
the services' gunicorn configuration with the same number of workers, on the same databases.
"""
from __future__ import annotations

import subprocess
import sys

import requests

from harness.stack_runner import StackRunner
from harness.wait import poll
from stack import render
from stack.config import REPO

GATEWAY_OFFSET = 50
APP_OFFSET = 51


class CeilingStack:
    def __init__(self, stack: StackRunner):
        self.stack, self.profile = stack, stack.profile
        self.gateway_port = self.profile.gateway_port + GATEWAY_OFFSET
        self.app_port = self.profile.gateway_port + APP_OFFSET
        self.state = self.profile.state_dir / "ceiling"
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> CeilingStack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        env = {**self.stack.process_env("tasks_svc"),
               "CEILING_TASKS_DATABASE_URL": self.stack.database_url("tasks_svc"),
               "CEILING_NOTIFICATIONS_DATABASE_URL": self.stack.database_url("notify_svc")}
        log = (self.profile.log_dir / "ceiling.log").open("ab")
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:taskwire_common.gunicorn_conf", "--no-control-socket",
             "--bind", f"127.0.0.1:{self.app_port}", "bench.ceiling:app_from_environment()"],
            cwd=REPO, env=env, stdout=log, stderr=log))
        conf = self.write_nginx_conf()
        self.processes.append(subprocess.Popen(
            [*render.nginx_command(self.profile)[:1], "-p", str(self.state), "-c", str(conf), "-e", "stderr",
             "-g", "daemon off;"], stdout=log, stderr=log))
        if not poll(self.answers, 30, interval=0.2):
            self.stop()
            raise RuntimeError(f"the ceiling did not answer on {self.gateway_url} (see {log.name})")

    def answers(self) -> bool:
        try:
            return requests.get(f"{self.gateway_url}/api/tasks/ceiling-check", timeout=2).status_code == 404
        except requests.RequestException:
            return False

    def write_nginx_conf(self):
        for name in render.NGINX_TEMP_DIRS:
            (self.state / "tmp" / name).mkdir(parents=True, exist_ok=True)
        ceiling = f"127.0.0.1:{self.app_port}"
        addresses = {"users_svc": f"127.0.0.1:{self.profile.process('users_svc').port}", "tasks_svc": ceiling,
                     "notify_svc": ceiling, "ws_relay": ceiling}
        values = {**render.nginx_values(self.profile),
                  "STATE_DIR": str(self.state),
                  "ACCESS_LOG": str(self.profile.log_dir / "ceiling-nginx-access.log"),
                  "GATEWAY_LISTEN": f"127.0.0.1:{self.gateway_port}",
                  "UPSTREAMS": "\n".join(render.UPSTREAM_GROUP.format(name=name, address=address)
                                         for name, address in addresses.items())}
        conf = self.state / "nginx.conf"
        conf.write_text(render.render_template(render.NGINX_TEMPLATE.read_text(), values))
        return conf

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
