"""The results as a table (each scenario, its figures, its target, met or not) and the regression gate.

The HTTP scenarios' targets are fractions of their ceiling measured in the same run, so they mean
the same on a quiet or a busy machine; the absolute figures are shown beside them.
"""
from __future__ import annotations

from typing import Any

# Taskwire's share of its ceiling's requests per second (bench/against_ceiling.py).
FRACTION_TARGETS = {"list_tasks": 0.75, "list_tasks_admin": 0.75, "create_tasks": 0.70, "list_notifications": 0.75}
# make bench fails when a scenario falls below this share of its target fraction (CI runs --quick).
GATE = 0.5
P99_TARGET_MS = {"list_tasks": 20, "list_tasks_admin": 20, "create_tasks": 30, "list_notifications": 20}
TITLES = {
    "list_tasks": "GET /api/tasks/?status=todo&ordering=-due_date, page of 20, as a user (100k tasks)",
    "list_tasks_admin": "the same page as an admin, over all 100k tasks",
    "create_tasks": "POST /api/tasks/ assigned to a user with an open socket (outbox, notification, push)",
    "list_notifications": "GET /api/notifications/, page of 20, as a user with 200+",
}
Row = tuple[str, str, str, bool | None]


def against_ceiling_row(name: str, r: dict[str, Any]) -> Row:
    cpu, ceiling_cpu = r["cpu_ms_per_request"]["total"], r["ceiling_cpu_ms_per_request"]["total"]
    measured = (f"{r['requests_per_s']:.0f} req/s = **{r['fraction']:.0%}** of the ceiling's "
                f"{r['ceiling_requests_per_s']:.0f}; CPU {cpu} ms/request (ceiling {ceiling_cpu}); at "
                f"{r['paced_requests_per_s']:.0f} req/s p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms; "
                f"load {r['load_1min']['min']}–{r['load_1min']['max']}")
    target = f"≥ {FRACTION_TARGETS[name]:.0%} of the ceiling; p99 ≤ {P99_TARGET_MS[name]} ms"
    return (TITLES[name], measured, target,
            r["fraction"] >= FRACTION_TARGETS[name] and r["p99_ms"] <= P99_TARGET_MS[name])


def rows(results: dict) -> list[Row]:
    s = results["scenarios"]
    out = [against_ceiling_row(name, s[name]) for name in FRACTION_TARGETS if name in s]
    if "list_tasks" in s:
        rate = s["list_tasks"]["requests_per_s"]
        out.append(("a user's list, absolute", f"{rate:.0f} req/s", "≥ 1,500 req/s on a quiet machine", rate >= 1500))
    if "list_tasks" in s and "list_tasks_admin" in s:
        user, admin = (s[name]["cpu_ms_per_request"]["total"] for name in ("list_tasks", "list_tasks_admin"))
        out.append(("an admin's page against a user's, CPU per request", f"{admin} ms against {user} ms "
                    f"({admin / user:.2f}×)", "≤ 2×", admin <= 2 * user))
    if "create_tasks" in s:
        cpu = s["create_tasks"]["cpu_ms_per_request"]
        parts = ", ".join(f"{group} {ms}" for group, ms in sorted(cpu.items(), key=lambda kv: -kv[1])
                          if group != "total" and ms >= 0.05)
        out.append(("a create's CPU across every process", f"{cpu['total']} ms ({parts})",
                    "≤ 8 ms (on the slower machine of this kind)", cpu["total"] <= 8))
    if "event_latency" in s:
        r = s["event_latency"]
        ws, note = r["to_socket"], r["to_notification"]
        bare = r.get("ceiling_to_socket")
        against = (f"; the bare publish→socket loop p50 {bare['p50_ms']} ms / p99 {bare['p99_ms']} ms, "
                   f"so Taskwire's p50 is {1 / r['fraction']:.1f}× the ceiling's") if bare else ""
        created = r.get("to_socket_from_event_time")
        created_text = (f"; from the event's time, before its statement and commit: p50 {created['p50_ms']} ms / "
                        f"p99 {created['p99_ms']} ms") if created else ""
        out.append((f"commit → WebSocket client, 100 events/s, {r['sockets']} sockets",
                    f"p50 {ws['p50_ms']} ms / p99 {ws['p99_ms']} ms ({ws['samples']} events){created_text}{against}",
                    "≤ 3 ms / ≤ 15 ms", ws["p50_ms"] <= 3 and ws["p99_ms"] <= 15))
        out.append(("commit → notification stored", f"p50 {note['p50_ms']} ms / p99 {note['p99_ms']} ms",
                    "p99 ≤ 50 ms", note["p99_ms"] <= 50))
    if "sockets_and_fanout" in s:
        r = s["sockets_and_fanout"]
        out.append(("idle authenticated sockets held by one relay process",
                    f"{r['sockets']}; {r['rss_per_socket_kib']} KiB each", "≥ 10,000; ≤ 20 KiB",
                    r["sockets"] >= 10_000 and r["rss_per_socket_kib"] <= 20))
        out.append((f"one event fanned out to {r['sockets']} admin sockets",
                    f"{r['fanout_last_delivery_ms']} ms to the last", "≤ 0.5 s",
                    r["sockets"] >= 10_000 and r["fanout_last_delivery_ms"] <= 500))
    if "mass_resume" in s:
        r = s["mass_resume"]
        out.append((f"{r['sockets']} admin sockets of one relay process resuming at once, cursors "
                    f"{r['events_behind']} events old",
                    f"all live after {r['all_live_s']} s (per socket p50 {r['socket_live_s']['p50']} s, max "
                    f"{r['socket_live_s']['max']} s); relay CPU {r['relay_cpu_s']} s", "all live ≤ 5 s (2,000)",
                    r["sockets"] >= 2000 and r["all_live_s"] <= 5))
    if "stream_resume" in s:
        r = s["stream_resume"]
        out.append((f"{r['sockets']} sockets of one admin resuming at once from cursors {r['events_behind']} events "
                    f"old, older than the relay's history of {r['history']}: each reads the stream, one at a time",
                    f"all live after {r['all_live_s']} s; per read {r['per_read_ms']['wall']} ms, relay CPU "
                    f"{r['per_read_ms']['relay_cpu']} ms", "— (a figure)", None))
    if "outbox_burst" in s:
        r = s["outbox_burst"]
        nodes = r["broker_nodes"]
        out.append((f"{r['events']} events committed to an outbox at once, published to "
                    f"{'a cluster of ' if nodes > 1 else ''}{nodes} RabbitMQ node{'s' if nodes > 1 else ''}",
                    f"{r['events_per_s']} events/s until the broker confirmed the last ({r['seconds']} s; rounds "
                    f"{', '.join(str(rate) for rate in r['rounds_events_per_s'])}); publisher CPU "
                    f"{r['publisher_cpu_ms_per_event']} ms/event", "— (a figure)", None))
    if "consumer_drain" in s:
        r = s["consumer_drain"]
        out.append((f"{r['events']} events queued while the consumer is stopped, then started",
                    f"{r['seconds']} s to drain", "≤ 10 s (10,000 events)",
                    r["events"] >= 10_000 and r["seconds"] <= 10))
    if "start_time" in s:
        out.append(("`make start` with everything installed", f"{s['start_time']['seconds']} s until healthy",
                    "≤ 15 s", s["start_time"]["seconds"] <= 15))
    return out


def markdown_table(results: dict) -> str:
    m = results["machine"]
    lines = [f"Run {results['date']}{' (quick)' if results['quick'] else ''} on {m['cores']} cores "
             f"({m['cpu']}), {m['memory_gib']} GiB; load generator on the same cores.", "",
             "| scenario | measured | target | met |", "| --- | --- | --- | --- |"]
    for scenario, measured, target, ok in rows(results):
        lines.append(f"| {scenario} | {measured} | {target} | {'—' if ok is None else 'yes' if ok else 'no'} |")
    failures = regressions(results)
    lines += ["", "Regression gate (a fraction below half its target): "
              + ("; ".join(failures) if failures else "passed")]
    return "\n".join(lines) + "\n"


def met(results: dict) -> str:
    with_target = [row for row in rows(results) if row[3] is not None]
    return f"{sum(1 for row in with_target if row[3])} of {len(with_target)}"


def regressions(results: dict) -> list[str]:
    """The scenarios whose fraction of the ceiling fell below GATE × its target: what fails `make bench`."""
    s = results["scenarios"]
    return [f"{name} at {s[name]['fraction']:.0%} of its ceiling, below {GATE * target:.0%}"
            for name, target in FRACTION_TARGETS.items() if name in s and s[name]["fraction"] < GATE * target]
