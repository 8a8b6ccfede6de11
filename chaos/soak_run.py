"""The soak in this process: its phases, its clients and what it measures (chaos/soak.py says what and why).

gevent must have patched the standard library before this module is imported (chaos/soak.py does).
"""
import os
import resource
import statistics
import time
import traceback
from datetime import datetime, timezone

import gevent
import psycopg2
import requests
from gevent import monkey
from gevent.pool import Pool

from harness import api, seed
from harness.infra import FAULT_LOG, SOAK_RUNNING
from harness.procfs import MemorySampler
from harness.stack_runner import StackRunner
from harness.ws import ws_url
from harness.ws_load import CountingPool, NeverReadingClient
from stack.config import Profile, load_profile

from . import soak_load
from .soak_logs import LogTail, error_lines, socket_closes
from .soak_memory import flatness
from .soak_report import MEMORY_TOLERANCE_PCT, criteria

SLOW_ADMIN = "soak-slow-admin"
MAX_USERS = 100  # users that list, own the sockets and get the tasks; ~10 sockets each with 1,000 sockets
ADMIN_SHARE = 0.01
SEGMENT_SECONDS = 30
FIRST_SEGMENT_SECONDS = 10
PACED_CONNECTIONS = 16
CAPACITY_CONNECTIONS = 32


def run_here(log, duration_s: float = 600, sockets: int = 1000, profile_name: str = "soak",
             keep_stack: bool = False) -> dict:
    """Start the stack, soak it, stop it, in this (gevent-patched) process; the figures and criteria."""
    if not monkey.is_module_patched("socket"):
        raise RuntimeError("the soak's clients are greenlets: gevent's monkey.patch_all() must come first")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket each, and wrk's
    SOAK_RUNNING.write_text(f"{datetime.now(timezone.utc).isoformat()} soak running, pid {os.getpid()}\n")
    soak = Soak(load_profile(profile_name), log, duration_s, sockets)
    try:
        return soak.run()
    except Exception as exc:  # the caller gets a result either way; the traceback goes to the log
        log(f"soak: ERROR: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        return {**soak.result, "ok": False, "failed": ["run_completed"], "error": f"{type(exc).__name__}: {exc}"}
    finally:
        soak.close()
        if not keep_stack:
            log("soak: stopping the stack")
            soak.stack.stop()
        SOAK_RUNNING.unlink(missing_ok=True)


class Soak:
    """The soak's phases on a seeded stack of its own: capacity, the paced soak, what it measured."""

    def __init__(self, profile: Profile, log, duration_s: float, sockets: int):
        self.profile, self.log, self.duration = profile, log, duration_s
        self.sockets = sockets
        self.stack = StackRunner(profile, quiet=True)
        self.gateway = profile.gateway_url
        self.url = self.gateway + "/"
        self.readers = CountingPool()
        self.slow: NeverReadingClient | None = None
        self.admin_readers: list[int] = []
        self.sampler = MemorySampler(profile)
        self.sent_total: dict[str, int] = {}
        self.writes_ok = 0
        self.result: dict = {"profile": profile.name, "duration_s": duration_s, "sockets": sockets}

    # -- setup -------------------------------------------------------------------------------

    def prepare(self) -> soak_load.MixData:
        self.log(f"soak: starting the {self.profile.name} stack")
        self.stack.start()
        seeded = seed.seed(self.stack, self.log)
        admin_token = seed.sign_in(self.gateway, seed.ADMIN)
        admins = max(1, round(self.sockets * ADMIN_SHARE) - 1)  # reading admins; the slow one comes later
        user_sockets = self.sockets - 1 - admins
        names = [seed.user_name(n) for n in range(min(MAX_USERS, user_sockets))]
        self.log(f"soak: logging in {len(names)} users and the slow admin")
        tokens = Pool(4).map(lambda name: seed.sign_in(self.gateway, name), names)
        self.slow_admin = self.ensure_slow_admin(admin_token)
        user_ids = [seeded.id_of(name) for name in names]
        urls = [ws_url(self.gateway, token=admin_token)] * admins + \
            [ws_url(self.gateway, token=tokens[n % len(tokens)]) for n in range(user_sockets)]
        self.admin_readers = list(range(admins))
        self.owner = {admins + n: user_ids[n % len(tokens)] for n in range(user_sockets)}  # socket -> its user
        self.readers.open(urls, log=lambda line: self.log("soak:" + line))
        self.result["sockets_detail"] = {"reading_admins": admins, "reading_users": user_sockets,
                                         "users": len(names), "never_reading_admin": 1}
        return soak_load.MixData(admin_token=admin_token, user_tokens=tokens,
                                 task_ids=self.tasks_of(user_ids), assignees=user_ids)

    def ensure_slow_admin(self, admin_token: str) -> dict:
        response = requests.post(f"{self.gateway}/api/auth/users/", timeout=30, headers=api.bearer(admin_token),
                                 json={"username": SLOW_ADMIN, "email": f"{SLOW_ADMIN}@soak.example",
                                       "password": seed.PASSWORD, "role": "admin"})
        if response.status_code not in (201, 409):
            response.raise_for_status()
        signed_in = api.login(self.gateway, SLOW_ADMIN, seed.PASSWORD)
        return {"id": signed_in["user"]["id"], "token": signed_in["token"]}

    def tasks_of(self, user_ids: list[int], per_user: int = 20) -> list[int]:
        with psycopg2.connect(self.stack.database_url("tasks_svc")) as connection, connection.cursor() as cursor:
            cursor.execute("""SELECT id FROM (SELECT id, assigned_user,
                                                row_number() OVER (PARTITION BY assigned_user ORDER BY id) AS n
                              FROM tasks WHERE assigned_user = ANY(%s) AND title LIKE 'Bench task %%') AS t
                              WHERE n <= %s ORDER BY n, assigned_user""", (user_ids, per_user))  # users in turn
            return [row[0] for row in cursor.fetchall()]

    # -- phases ------------------------------------------------------------------------------

    def wrk(self, data: soak_load.MixData, seconds: float, connections: int, delay_ms: float | None = None) -> dict:
        """One wrk run of the mix, going on round the users where the last run stopped."""
        script = soak_load.lua_script(data, delay_ms=delay_ms, sent_before=self.sent_total)
        figures = soak_load.run_wrk(self.url, script, seconds, connections)
        for kind, count in figures["sent"].items():
            self.sent_total[kind] = self.sent_total.get(kind, 0) + count
        self.writes_ok += figures["writes_ok"]  # since the readers opened: each is an event every admin reader gets
        return figures

    def measure_capacity(self, data: soak_load.MixData) -> float:
        runs, seconds = (2, 15) if self.duration >= 300 else (1, 10)
        self.log(f"soak: capacity: wrk -t2 -c{CAPACITY_CONNECTIONS} flat out, {runs} x {seconds} s after a 5 s warm-up")
        self.wrk(data, 5, CAPACITY_CONNECTIONS)
        results = []
        for number in range(runs):
            results.append(self.wrk(data, seconds, CAPACITY_CONNECTIONS))
            self.log(f"soak:   run {number + 1}/{runs}: {results[-1]['requests_per_s']:.0f} req/s, "
                     f"p99 {results[-1].get('p99_ms')} ms, errors {results[-1]['errors']}")
        capacity = statistics.median(r["requests_per_s"] for r in results)
        self.result["capacity"] = {"requests_per_s": round(capacity, 1), "connections": CAPACITY_CONNECTIONS,
                                   "runs": [compact(r) for r in results]}
        return capacity

    def soak(self, data: soak_load.MixData, target: float) -> None:
        delay = PACED_CONNECTIONS * 1000.0 / target  # corrected after the first segment
        segments: list[dict] = []
        self.started = time.time()
        sampler = gevent.spawn(self.sample_memory)
        try:
            self.slow = NeverReadingClient(ws_url(self.gateway, token=self.slow_admin["token"]))
            self.log(f"soak: {self.duration:.0f} s at {target:.0f} req/s with {len(self.readers.sockets) + 1} "
                     f"sockets; the slow admin (user {self.slow_admin['id']}) never reads")
            while (left := self.started + self.duration - time.time()) >= 1:
                seconds = SEGMENT_SECONDS if segments else FIRST_SEGMENT_SECONDS  # the first one calibrates
                segment = self.wrk(data, min(seconds, left), PACED_CONNECTIONS, delay_ms=delay)
                segment["delay_ms"] = round(delay)
                segments.append(segment)
                delay = soak_load.next_delay_ms(PACED_CONNECTIONS, target, segment["requests_per_s"], delay)
                self.progress(segments, target)
        finally:
            self.ended = time.time()
            sampler.kill()
        self.sampler.sample()
        self.segments = segments

    def sample_memory(self) -> None:
        while True:
            self.sampler.sample()
            gevent.sleep(10 if self.duration >= 300 else 5)

    def progress(self, segments: list[dict], target: float) -> None:
        elapsed = time.time() - self.started
        requests_done = sum(s["requests"] for s in segments)
        errors = sum(s["errors"] for s in segments)
        relay = self.relay_text()
        slow = socket_closes(relay, self.slow_admin["id"])
        closed = [e for e in slow if e["what"] == "closed"]
        slow_state = f"dropped ({closed[0]['code']}) after {closed[0]['at'] - self.slow_client.opened_at:.0f} s" \
            if closed else "open"
        total_rss = sum(self.sampler.samples[-1][1].values()) / 1024 if self.sampler.samples else 0
        self.log(f"soak: {elapsed:4.0f}/{self.duration:.0f} s  {segments[-1]['requests_per_s']:.0f} req/s "
                 f"(target {target:.0f})  requests {requests_done}  errors {errors}  "
                 f"sockets {len(self.readers.sockets) - len(self.readers.ended)} reading, "
                 f"{len(self.readers.ended)} closed, {self.readers.received_since(time.time() - SEGMENT_SECONDS)} "
                 f"got a message in the last {SEGMENT_SECONDS} s  slow socket {slow_state}  "
                 f"stack RSS {total_rss:.0f} MiB")

    @property
    def slow_client(self) -> NeverReadingClient:
        if self.slow is None:
            raise RuntimeError("the never-reading socket is opened when the soak starts")
        return self.slow

    def relay_text(self) -> str:
        self.relay_log += self.relay_tail.read_new().get("ws_relay.log", "")
        return self.relay_log

    # -- the whole run -----------------------------------------------------------------------

    def run(self) -> dict:
        data = self.prepare()
        capacity = self.measure_capacity(data)
        target = capacity / 2
        logs = sorted(self.profile.log_dir.glob("*.log"))
        all_logs, faults = LogTail(logs), LogTail([FAULT_LOG])
        self.relay_tail, self.relay_log = LogTail([self.profile.log_dir / "ws_relay.log"]), ""
        self.soak(data, target)
        self.settle()
        self.result.update(self.figures(target, all_logs.read_new(), faults.read_new().get(FAULT_LOG.name, "")))
        self.result["criteria"], self.result["failed"] = criteria(self.result)
        self.result["ok"] = not self.result["failed"]
        return self.result

    def settle(self, seconds: float = 15.0) -> None:
        """Let the last events reach the readers: every admin reader up to the writes acknowledged."""
        deadline = time.time() + seconds
        while time.time() < deadline and min(self.admin_task_events(), default=self.writes_ok) < self.writes_ok:
            gevent.sleep(0.5)
        gevent.sleep(1.0)  # the users' sockets get the same events from the same relay processes

    def admin_task_events(self) -> list[int]:
        return [self.readers.counts.get(i, {}).get("task_update", 0) for i in self.admin_readers]

    def figures(self, target: float, logs: dict[str, str], faults: str) -> dict:
        soak_seconds = self.ended - self.started
        requests_done = sum(s["requests"] for s in self.segments)
        errors = {"non_2xx": sum(s["non_2xx"] for s in self.segments)}
        for kind in ("connect", "read", "write", "timeout"):
            errors[kind] = sum(s["socket_errors"].get(kind, 0) for s in self.segments)
        sent = {kind: sum(s["sent"].get(kind, 0) for s in self.segments) for kind in soak_load.MIX}
        statuses: dict[str, int] = {}
        for segment in self.segments:
            for status, count in segment["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        second_half = self.started + soak_seconds / 2
        warm_up = min(60.0, soak_seconds / 6)
        window = min(60.0, soak_seconds / 6)
        first = (self.started + warm_up, self.started + warm_up + window)
        last = (self.ended - window, self.ended)
        memory = flatness(self.sampler.samples, first, last, MEMORY_TOLERANCE_PCT)
        return {
            "load": {"capacity_requests_per_s": self.result["capacity"]["requests_per_s"],
                     "target_requests_per_s": round(target, 1),
                     "achieved_requests_per_s": round(requests_done / soak_seconds, 1),
                     "soak_seconds": round(soak_seconds, 1), "paced_connections": PACED_CONNECTIONS,
                     "mix": soak_load.MIX,
                     "segments": [{"requests_per_s": s["requests_per_s"], "delay_ms": s["delay_ms"],
                                   "p50_ms": s.get("p50_ms"), "p99_ms": s.get("p99_ms"), "errors": s["errors"]}
                                  for s in self.segments]},
            "requests": {"total": requests_done, "sent_by_kind": sent, "statuses": statuses, "errors": errors,
                         "error_total": sum(errors.values()),
                         "writes_acknowledged_since_sockets_opened": self.writes_ok},
            "websockets": self.socket_figures(second_half),
            "slow_socket": self.slow_socket_figures(),
            "memory": {"window_first": [round(t - self.started) for t in first],
                       "window_last": [round(t - self.started) for t in last],
                       "tolerance_pct": MEMORY_TOLERANCE_PCT, "processes": memory,
                       "replaced_processes": self.sampler.replaced, "samples": len(self.sampler.samples)},
            "log_errors": {name: lines[:20] for name, text in logs.items() if (lines := error_lines(name, text))},
            "faults_logged_meanwhile": faults.splitlines(),
        }

    def socket_figures(self, second_half: float) -> dict:
        admin_events = self.admin_task_events()
        quiet = [i for i in range(len(self.readers.sockets)) if self.readers.last_arrival.get(i, 0) < second_half]
        seen_by_user: dict[int, set] = {}
        for index, user in self.owner.items():
            counts = self.readers.counts.get(index, {})
            seen_by_user.setdefault(user, set()).add((counts.get("task_update", 0), counts.get("notification", 0)))
        return {"reading": len(self.readers.sockets),
                "unexpected_closes": len(self.readers.ended),
                "closes": [{"socket": i, **end} for i, end in sorted(self.readers.ended.items())][:20],
                "messages_received": {kind: sum(c[kind] for c in self.readers.counts.values())
                                      for kind in ("task_update", "notification", "other")},
                "admin_task_events_min_max": [min(admin_events, default=0), max(admin_events, default=0)],
                "sockets_without_a_message_in_the_second_half": len(quiet),
                "users_of_those_sockets": sorted({self.owner.get(i, "admin") for i in quiet}, key=str)[:20],
                "users_whose_sockets_got_different_counts": sum(1 for seen in seen_by_user.values() if len(seen) > 1)}

    def slow_socket_figures(self) -> dict:
        kernel = self.slow_client.kernel_view()
        relay_says = socket_closes(self.relay_text(), self.slow_admin["id"])
        closed = next((e for e in relay_says if e["what"] == "closed"), None)
        drained = self.slow_client.drain(seconds=10)
        return {"user_id": self.slow_admin["id"], "opened_after_s": round(self.slow_client.opened_at - self.started, 1),
                "client_kernel_before_reading": kernel,
                "relay_log": [e["line"] for e in relay_says],
                "dropped": closed is not None and closed["code"] is not None,
                "close_code": closed["code"] if closed else None,
                "dropped_after_s": round(closed["at"] - self.slow_client.opened_at, 1) if closed else None,
                "queue_full": any(e["what"] == "send queue full" for e in relay_says),
                "client_view": drained}

    def close(self) -> None:
        self.readers.close()


def compact(figures: dict) -> dict:
    keep = ("requests_per_s", "p50_ms", "p99_ms", "requests", "errors", "sent", "statuses")
    return {k: figures[k] for k in keep if k in figures}
