"""The benchmark scenarios of issue 7, each returning its figures; the runner in __main__ records them."""
from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
import uuid

import gevent
import psycopg2
import requests

from broker import topology
from stack import render
from stack.config import REPO, Profile, process_env
from taskwire_common.messaging import ConfirmingPublisher

from . import http_load, seed
from .ws_clients import SocketPool

STANDALONE_RELAY_PORT = 28104


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"samples": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(percentile(ms, 0.99), 2),
            "max_ms": round(max(ms), 2)}


class Bench:
    def __init__(self, profile: Profile, log, quick: bool = False):
        self.profile, self.log, self.quick = profile, log, quick
        self.gateway = profile.gateway_url
        self.env = {p.name: process_env(profile, p) for p in profile.processes}
        self.ids: dict = {}
        self.tokens: dict = {}

    # -- setup -----------------------------------------------------------------------------------

    def stack(self, *args: str) -> float:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "stack", *args, "--profile", self.profile.name], cwd=REPO,
                       check=True, capture_output=True)
        return time.monotonic() - started

    def database_url(self, process: str) -> str:
        return self.env[process]["DATABASE_URL"]

    def prepare(self) -> None:
        self.ids = seed.seed(self.database_url("users_svc"), self.database_url("tasks_svc"), self.log)
        self.tokens["admin"] = self.login(seed.ADMIN)
        self.tokens["user"] = self.login(seed.user_name(7))  # lists: ~100 seeded tasks, a third of them todo
        self.tokens["writer"] = self.login(seed.user_name(999))  # creates: keeps the lister's list as seeded

    def login(self, username: str) -> str:
        response = requests.post(f"{self.gateway}/api/auth/login/", timeout=30,
                                 json={"username": username, "password": seed.PASSWORD})
        response.raise_for_status()
        return response.json()["token"]

    def user_ids(self) -> list[int]:
        return sorted(uid for name, (uid, role) in self.ids.items() if role == "user")

    # -- scenarios -------------------------------------------------------------------------------

    def start_time(self) -> dict:
        """`make start` with everything installed: seconds from stopped to healthy through the gateway."""
        self.stack("stop")
        seconds = self.stack("start")
        return {"seconds": round(seconds, 2)}

    def list_tasks(self) -> dict:
        url = f"{self.gateway}/api/tasks/?status=todo&ordering=-due_date&page_size=20"
        runs, seconds = (1, 5) if self.quick else (3, 10)
        self.log("  throughput (wrk -t2 -c32)")
        peak = http_load.throughput(url, self.tokens["user"], runs=runs, seconds=seconds, log=self.log)
        rate = peak["requests_per_s"] / 2
        self.log(f"  latency at half that rate ({rate:.0f} req/s)")
        paced = http_load.paced_latency(url, self.tokens["user"], rate, runs=runs, seconds=seconds, log=self.log)
        return {"requests_per_s": peak["requests_per_s"], "paced_requests_per_s": paced["requests_per_s"],
                "p50_ms": paced["p50_ms"], "p99_ms": paced["p99_ms"], "runs": {"peak": peak, "paced": paced}}

    def create_tasks(self) -> dict:
        url = f"{self.gateway}/api/tasks/"
        body = json.dumps({"title": "Bench create", "priority": "high", "due_date": "2026-12-01"})
        runs, seconds = (1, 5) if self.quick else (3, 10)
        self.log("  throughput (wrk -t2 -c32)")
        peak = http_load.throughput(url, self.tokens["writer"], method="POST", body=body, runs=runs,
                                    seconds=seconds, log=self.log)
        rate = peak["requests_per_s"] / 2
        self.log(f"  latency at half that rate ({rate:.0f} req/s)")
        paced = http_load.paced_latency(url, self.tokens["writer"], rate, method="POST", body=body, runs=runs,
                                        seconds=seconds, log=self.log)
        return {"requests_per_s": peak["requests_per_s"], "p99_ms_at_peak": peak["p99_ms"],
                "paced_requests_per_s": paced["requests_per_s"], "p50_ms": paced["p50_ms"],
                "p99_ms": paced["p99_ms"], "runs": {"peak": peak, "paced": paced}}

    def event_latency(self) -> dict:
        """1,000 sockets through nginx; the admin creates tasks for users at 100/s; commit → socket, → stored."""
        users = self.user_ids()
        user_tokens = [self.login(seed.user_name(n)) for n in range(3)]
        ws_base = self.gateway.replace("http://", "ws://") + "/ws/tasks/?token="
        urls = [ws_base + self.tokens["admin"]] + [ws_base + user_tokens[n % 3] for n in range(999)]
        pool = SocketPool()
        pool.open(urls, log=self.log)
        try:
            marker = f"latency-{uuid.uuid4().hex[:6]}"
            count = 500 if self.quick else 2000
            self.log(f"  {count} task changes at 100/s")
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.tokens['admin']}"
            rng = random.Random(11)
            started = time.monotonic()
            for number in range(count):
                gevent.sleep(max(0.0, started + number / 100 - time.monotonic()))
                session.post(f"{self.gateway}/api/tasks/", timeout=30, json={
                    "title": f"{marker} {number}", "assigned_user": rng.choice(users)}).raise_for_status()
            gevent.sleep(1.0)  # the last deliveries, measured below from their own timestamps
            delays, occurred = [], {}
            for index, arrived, raw in pool.received:
                message = json.loads(raw)
                if index == 0 and message["type"] == "task_update" and message["task"]["title"].startswith(marker):
                    moment = iso_seconds(message["occurred_at"])
                    delays.append(arrived - moment)
                    occurred[message["task"]["id"]] = moment
        finally:
            pool.close()
        stored = self.notification_delays(occurred)
        return {"sockets": len(urls), "events": count, "to_socket": summary_ms(delays),
                "to_notification": summary_ms(stored)}

    def notification_delays(self, occurred: dict) -> list[float]:
        with psycopg2.connect(self.database_url("notify_svc")) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT task_id, extract(epoch FROM created_at) FROM notifications "
                           "WHERE task_id = ANY(%s) AND event_type = 'task.created'", (list(occurred),))
            return [float(created) - occurred[task_id] for task_id, created in cursor.fetchall()]

    def sockets_and_fanout(self) -> dict:
        """One relay process (1 worker, direct): hold N idle admin sockets, then fan one event out to all."""
        count = 2000 if self.quick else 10_000
        relay = self.start_standalone_relay()
        pool = SocketPool()
        try:
            worker = wait_for_worker(relay.pid)
            before = rss_kib(worker)
            url = f"ws://127.0.0.1:{STANDALONE_RELAY_PORT}/ws/tasks/?token={self.tokens['admin']}"
            pool.open([url] * count, log=self.log)
            gevent.sleep(2.0)  # let the relay settle its buffers before reading its memory
            after = rss_kib(worker)
            fanouts = [self.fan_out_once(pool, count) for _ in range(1 if self.quick else 3)]
        finally:
            pool.close()
            relay.terminate()
            relay.wait(timeout=30)
        return {"sockets": count, "relay_rss_kib_before": before, "relay_rss_kib_after": after,
                "rss_per_socket_kib": round((after - before) / count, 1),
                "fanout_last_delivery_ms": round(statistics.median(fanouts) * 1000, 1),
                "fanout_runs_ms": [round(f * 1000, 1) for f in fanouts]}

    def fan_out_once(self, pool: SocketPool, count: int) -> float:
        marker = f"fanout-{uuid.uuid4().hex[:6]}"
        already = len(pool.received)
        publisher = ConfirmingPublisher(self.env["ws_relay"]["AMQP_URL"])
        publisher.connect()
        published = time.time()
        publisher.publish(topology.TASK_CREATED, synthetic_task_event(marker, None, 0))
        publisher.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            arrivals = [t for _, t, raw in pool.received[already:] if marker in raw]
            if len(arrivals) >= count:
                self.log(f"  fan-out to {count}: last delivery after {(max(arrivals) - published) * 1000:.0f} ms")
                return max(arrivals) - published
            gevent.sleep(0.05)
        raise RuntimeError(f"fan-out reached only {len(arrivals)} of {count} sockets in 60 s")

    def start_standalone_relay(self):
        env = {**self.env["ws_relay"], "WEB_CONCURRENCY": "1", "WORKER_CONNECTIONS": "19000"}
        relay = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:taskwire_common.gunicorn_conf",
             "--bind", f"127.0.0.1:{STANDALONE_RELAY_PORT}", "ws_relay.wsgi:app"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{STANDALONE_RELAY_PORT}/healthz", timeout=2).status_code == 200:
                    return relay
            except requests.RequestException:
                pass
            gevent.sleep(0.2)
        relay.terminate()
        raise RuntimeError("the standalone relay did not become healthy")

    def consumer_drain(self) -> dict:
        """N task events queued while notify_worker is stopped; seconds until all their notifications exist."""
        count = 2000 if self.quick else 10_000
        supervisorctl(self.profile, "stop", "taskwire:notify_worker")
        marker = f"drain-{uuid.uuid4().hex[:6]}"
        user = self.user_ids()[3]
        publisher = ConfirmingPublisher(self.env["notify_svc"]["AMQP_URL"])
        publisher.connect()
        first_id = 1_000_000_000 + random.Random(marker).randrange(1000) * 1_000_000  # int32, clear of real ids
        for number in range(count):
            publisher.publish(topology.TASK_CREATED, synthetic_task_event(marker, user, first_id + number))
        publisher.close()
        self.log(f"  {count} events queued; starting the consumer")
        started = time.monotonic()
        supervisorctl(self.profile, "start", "taskwire:notify_worker")
        with psycopg2.connect(self.database_url("notify_svc")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                while True:
                    cursor.execute("SELECT count(*) FROM notifications WHERE task_id BETWEEN %s AND %s",
                                   (first_id, first_id + count - 1))
                    if cursor.fetchone()[0] >= count:
                        break
                    if time.monotonic() - started > 300:
                        raise RuntimeError("the queue did not drain in 300 s")
                    gevent.sleep(0.05)
        return {"events": count, "seconds": round(time.monotonic() - started, 2)}


def synthetic_task_event(title: str, assignee: int | None, task_id: int) -> dict:
    """A task.created event as tasks_svc writes it, for load that must not go through the API."""
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/taskwire/bench", "type": "task.created",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "datacontenttype": "application/json",
            "data": {"task": {"id": task_id, "title": title, "description": "", "priority": "low", "status": "todo",
                              "due_date": None, "assigned_user": assignee, "created_by": 0},
                     "actor_id": 0, "actor_username": "bench"}}


def iso_seconds(moment: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def supervisorctl(profile: Profile, *args: str) -> None:
    conf = render.supervisor_paths(profile)["conf"]
    subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf), *args],
                   check=True, capture_output=True)


def wait_for_worker(master_pid: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = open(f"/proc/{master_pid}/task/{master_pid}/children").read().split()
        if children:
            return int(children[0])
        gevent.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
