"""The soak's pure parts: wrk's output, the pacing, memory flatness, the relay's log lines, the criteria."""
import time

import pytest

from chaos import soak_load, soak_logs, soak_memory, soak_report
from harness import procfs

WRK_OUTPUT = """Running 30s test @ http://127.0.0.1:24000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.10ms   20.31ms 301.22ms   93.10%
    Req/Sec   125.40     20.11   190.00     70.00%
  Latency Distribution
     50%    6.61ms
     75%   10.20ms
     90%   21.00ms
     99%  110.52ms
  7532 requests in 30.02s, 9.81MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:    250.91
Transfer/sec:    334.60KB
SOAK-MIX {"sent":{"list":6030,"update":752,"create":380,"delete":372},"ok":{"list":6027,"update":752,"create":379,\
"delete":371},"statuses":{"200":6779,"201":379,"204":371,"503":3},"created_not_deleted":8}
"""

DATA = soak_load.MixData(admin_token="ADMIN", user_tokens=["U1", "U2"], task_ids=[5, 6, 7], assignees=[2, 3])


def test_wrk_output_gives_rate_counts_and_every_kind_of_error():
    figures = soak_load.parse(WRK_OUTPUT)
    assert figures["requests_per_s"] == 250.91
    assert figures["requests"] == 7532
    assert figures["p99_ms"] == 110.52
    assert figures["socket_errors"] == {"connect": 0, "read": 1, "write": 0, "timeout": 2}
    assert figures["errors"] == 3 + 1 + 2
    assert figures["sent"]["update"] == 752
    assert figures["writes_ok"] == 752 + 379 + 371  # lists are not writes


def test_the_mix_script_carries_the_tokens_the_pause_and_where_the_last_run_stopped():
    script = soak_load.lua_script(DATA, delay_ms=61.6, sent_before={"update": 40, "create": 9, "list": 300})
    assert '{"U1","U2"}' in script and '"Bearer ADMIN"' in script
    assert "function delay() return 62 end" in script
    assert "task_turn, assignee_turn = 40 + number - 1, 9 + number - 1" in script
    assert "serial = 349" in script


def test_the_capacity_script_is_not_paced():
    assert "function delay" not in soak_load.lua_script(DATA)


@pytest.mark.parametrize("achieved, expected", [(200.0, 48.0), (250.0, 64.0), (160.0, 28.0)])
def test_the_pause_is_corrected_by_the_response_time_the_last_segment_showed(achieved, expected):
    # 16 connections, 64 ms per request at the target of 250/s; the pause was 64 ms.
    assert soak_load.next_delay_ms(16, 250.0, achieved, 64.0) == pytest.approx(expected)


def test_the_pause_is_never_negative():
    assert soak_load.next_delay_ms(16, 250.0, 50.0, 10.0) == 0.0


def test_supervisorctl_status_names_each_running_program_with_its_pid():
    output = ("taskwire:gateway                 RUNNING   pid 11280, uptime 0:00:13\n"
              "taskwire:tasks_svc               RUNNING   pid 11273, uptime 0:00:13\n"
              "taskwire:notify_worker           STARTING  \n")
    assert procfs.parse_status(output) == {"gateway": 11280, "tasks_svc": 11273}


def test_workers_are_labelled_under_their_program():
    tree = {1: [10, 20], 10: [12, 11], 11: [13], 20: []}
    labels = procfs.label_processes(1, {"tasks_svc": 10, "tasks_outbox": 20}, tree)
    assert labels == {"supervisord": 1, "tasks_outbox": 20, "tasks_svc": 10,
                      "tasks_svc/worker1": 11, "tasks_svc/worker2": 12, "tasks_svc/worker3": 13}


def test_memory_is_compared_median_to_median_per_process():
    samples = [(t, {"relay": rss, "nginx": 100}) for t, rss in
               [(0, 50), (10, 100), (20, 102), (30, 98), (40, 104), (50, 130), (60, 109), (70, 111)]]
    figures = soak_memory.flatness(samples, first=(10, 30), last=(50, 70), tolerance_pct=10)
    assert figures["relay"] == {"start_kib": 100, "end_kib": 111, "change_pct": 11.0, "max_kib": 130,
                                "samples": 8, "flat": False}
    assert figures["nginx"]["flat"] and figures["nginx"]["change_pct"] == 0.0


def test_a_process_missing_from_a_window_is_not_called_flat():
    samples = [(0, {"a": 10}), (100, {"a": 10, "b": 5})]
    assert not soak_memory.flatness(samples, (0, 10), (90, 100), 10)["b"]["flat"]


RELAY_LOG = """INFO 2026-11-26 17:25:06,100 sockets WebSocket /ws/tasks/ opened for user 1002
WARNING 2026-11-26 17:25:40,250 hub dropping the socket of user 1002: it stopped reading
INFO 2026-11-26 17:25:45,735 sockets WebSocket of user 1002 closed (1013)
INFO 2026-11-26 17:25:46,000 sockets WebSocket of user 10021 closed (1008)
INFO 2026-11-26 17:25:47,000 sockets WebSocket of user 7 closed (by the client)
"""


def test_the_relay_log_tells_when_and_how_one_users_socket_was_dropped():
    events = soak_logs.socket_closes(RELAY_LOG, 1002)
    assert [(e["what"], e.get("code")) for e in events] == [("send queue full", None), ("closed", 1013)]
    assert events[1]["at"] - events[0]["at"] == pytest.approx(5.485)
    assert events[1]["at"] == pytest.approx(time.mktime((2026, 11, 26, 17, 25, 45, 0, 0, -1)) + 0.735)
    assert soak_logs.socket_closes(RELAY_LOG, 7)[0]["code"] is None


def test_error_lines_are_found_in_service_and_nginx_logs():
    service = ("INFO 2026-11-26 17:25:06,100 api ok\nERROR 2026-11-26 17:25:07,100 api broke\n"
               "Traceback (most recent call last):\n")
    assert len(soak_logs.error_lines("tasks_svc.log", service)) == 2
    nginx = "2026/11/26 17:25:06 [warn] 1#1: something\n2026/11/26 17:25:07 [error] 1#1: upstream broke\n"
    assert len(soak_logs.error_lines("gateway.log", nginx)) == 1


def test_a_log_tail_returns_only_what_was_appended(tmp_path):
    path = tmp_path / "ws_relay.log"
    path.write_text("before\n")
    tail = soak_logs.LogTail([path, tmp_path / "missing.log"])
    with path.open("a") as f:
        f.write("after\n")
    assert tail.read_new() == {"ws_relay.log": "after\n"}
    assert tail.read_new() == {"ws_relay.log": ""}


def passing_result() -> dict:
    return {"load": {"achieved_requests_per_s": 240.0, "target_requests_per_s": 250.0},
            "requests": {"error_total": 0, "writes_acknowledged_since_sockets_opened": 500},
            "websockets": {"unexpected_closes": 0, "sockets_without_a_message_in_the_second_half": 0,
                           "admin_task_events_min_max": [500, 500], "users_whose_sockets_got_different_counts": 0},
            "slow_socket": {"dropped": True, "close_code": 1013,
                            "client_view": {"how": "connection closed by the server without a close frame"}},
            "memory": {"processes": {"ws_relay/worker1": {"flat": True}}, "replaced_processes": []},
            "log_errors": {}}


def test_a_run_meeting_every_criterion_fails_none():
    held, failed = soak_report.criteria(passing_result())
    assert all(held.values()) and failed == []


@pytest.mark.parametrize("change, criterion", [
    (lambda r: r["requests"].update(error_total=1), "no_http_errors"),
    (lambda r: r["load"].update(achieved_requests_per_s=200.0), "rate_within_10pct_of_half_capacity"),
    (lambda r: r["websockets"].update(admin_task_events_min_max=[499, 500]), "no_task_event_lost_to_an_admin"),
    (lambda r: r["slow_socket"].update(close_code=1012), "slow_socket_dropped"),
    (lambda r: r["slow_socket"]["client_view"].update(how="still open: nothing more to read and no close"),
     "slow_socket_dropped"),
    (lambda r: r["memory"]["processes"]["ws_relay/worker1"].update(flat=False), "memory_flat_within_10pct"),
])
def test_each_shortfall_fails_its_criterion(change, criterion):
    result = passing_result()
    change(result)
    assert soak_report.criteria(result)[1] == [criterion]
