"""The results as a table: each scenario, its figures, its target, met or not."""
from __future__ import annotations


def rows(results: dict) -> list[tuple[str, str, str, bool | None]]:
    s = results["scenarios"]
    out = []
    if "list_tasks" in s:
        r = s["list_tasks"]
        out.append(("GET /api/tasks/?status=todo&ordering=-due_date as a user, page of 20, 100k tasks",
                    f"{r['requests_per_s']:.0f} req/s; at {r['paced_requests_per_s']:.0f} req/s p50 {r['p50_ms']} ms, "
                    f"p99 {r['p99_ms']} ms", "≥ 1,000 req/s; p99 ≤ 30 ms",
                    r["requests_per_s"] >= 1000 and r["p99_ms"] <= 30))
    if "create_tasks" in s:
        r = s["create_tasks"]
        out.append(("POST /api/tasks/ (task + outbox row)",
                    f"{r['requests_per_s']:.0f} req/s (p99 {r['p99_ms_at_peak']} ms at that peak); "
                    f"at {r['paced_requests_per_s']:.0f} req/s p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms",
                    "≥ 500 req/s; p99 ≤ 50 ms", r["requests_per_s"] >= 500 and r["p99_ms"] <= 50))
    if "event_latency" in s:
        r = s["event_latency"]
        ws, note = r["to_socket"], r["to_notification"]
        out.append((f"commit → WebSocket client, 100 events/s, {r['sockets']} sockets",
                    f"p50 {ws['p50_ms']} ms / p99 {ws['p99_ms']} ms ({ws['samples']} events)", "≤ 5 ms / ≤ 25 ms",
                    ws["p50_ms"] <= 5 and ws["p99_ms"] <= 25))
        out.append(("commit → notification stored", f"p50 {note['p50_ms']} ms / p99 {note['p99_ms']} ms",
                    "≤ 20 ms / ≤ 100 ms", note["p50_ms"] <= 20 and note["p99_ms"] <= 100))
    if "sockets_and_fanout" in s:
        r = s["sockets_and_fanout"]
        out.append(("idle authenticated sockets held by one relay process",
                    f"{r['sockets']}; {r['rss_per_socket_kib']} KiB each", "≥ 10,000; ≤ 40 KiB",
                    r["sockets"] >= 10_000 and r["rss_per_socket_kib"] <= 40))
        out.append((f"one event fanned out to {r['sockets']} admin sockets",
                    f"{r['fanout_last_delivery_ms']} ms to the last", "≤ 1 s",
                    r["sockets"] >= 10_000 and r["fanout_last_delivery_ms"] <= 1000))
    if "mass_resume" in s:
        r = s["mass_resume"]
        out.append((f"{r['sockets']} admin sockets of one relay process resuming at once, cursors "
                    f"{r['events_behind']} events old",
                    f"all live after {r['all_live_s']} s (per socket p50 {r['socket_live_s']['p50']} s, max "
                    f"{r['socket_live_s']['max']} s); relay CPU {r['relay_cpu_s']} s", "none set (issue 15)", None))
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
    return "\n".join(lines) + "\n"


def met(results: dict) -> str:
    with_target = [row for row in rows(results) if row[3] is not None]
    return f"{sum(1 for row in with_target if row[3])} of {len(with_target)}"
