"""The gunicorn configuration every Taskwire web process runs with (`-c python:taskwire_common.gunicorn_conf`).

gevent workers: psycopg2 is made cooperative after fork, and each app's background tasks
(revocation feed, event consumers) start in the worker, never in the master or at import.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from gunicorn.glogging import Logger

from taskwire_common.logs import log_format, logging_config, name_service

if TYPE_CHECKING:  # the master process never imports Flask
    from taskwire_common.app_factory import BackgroundTask


class AppLogsRequests(Logger):
    """gunicorn's logger without its access line: each app logs its requests, with the request id.

    With `logconfig_dict` set, gunicorn builds the access line for every request even though
    `accesslog` is None (about 3 % of a create's CPU), only for no handler to write it.
    """

    def setup(self, cfg: Any) -> None:
        # The app's package ("tasks_svc" of tasks_svc.wsgi:app) names the service in the master's lines, and in
        # its workers' (forked from it).
        name_service(re.split(r"[.:]", str(cfg.default_proc_name))[0])
        super().setup(cfg)

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        pass


# gunicorn's gevent worker, answering the requests gunicorn refuses itself (a broken request line, header
# fields too many or too large) as JSON problem details instead of its HTML page.
worker_class = "taskwire_common.gunicorn_worker.ProblemGeventWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))
timeout = 30
graceful_timeout = 10
keepalive = 75  # longer than nginx's upstream keepalive, so nginx closes first
control_socket_disable = True  # several gunicorns on one machine would collide on ~/.gunicorn
logconfig_dict = logging_config(os.environ.get("LOG_LEVEL", "DEBUG").upper(), log_format())
logger_class = AppLogsRequests
# nginx gates the request line at 8 KiB (a JSON 414). gunicorn's default (4094 bytes) sat below that; 0, no
# limit at all, let a client talking to a service directly send a request line as long as it liked. 8190,
# gunicorn's largest, is what nginx lets through; longer is gunicorn's 414, JSON like the gateway's.
limit_request_line = 8190
# Whose X-Forwarded-Proto gunicorn believes: nobody's. By default it takes one from 127.0.0.1, where every
# local client is; the app's TrustedProxyFix reads the forwarded headers, from TRUSTED_PROXIES only.
forwarded_allow_ips = ""


def post_fork(server: Any, worker: Any) -> None:
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


def post_worker_init(worker: Any) -> None:
    for task in background_tasks(worker):
        task.start()


def child_exit(server: Any, worker: Any) -> None:
    # prometheus_client's multiprocess mode (taskwire_common/metrics.py): a dead worker's live gauges (open
    # sockets) must leave the sum; its counters stay, so totals never go back.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # unannotated in prometheus_client 0.26


def worker_exit(server: Any, worker: Any) -> None:
    for task in background_tasks(worker):
        task.stop()


def background_tasks(worker: Any) -> list[BackgroundTask]:
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", {})
    tasks: list[BackgroundTask] = extensions.get("taskwire.background", [])
    return tasks
