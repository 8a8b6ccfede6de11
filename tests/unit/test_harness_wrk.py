"""The wrk runner's pure parts: what it reads from wrk's output, and the Lua it writes."""
import pytest

from harness import wrk

OUTPUT = """Running 10s test @ http://127.0.0.1:1/api/tasks/
  2 threads and 32 connections
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    2.50ms
     99%    1.02s
  9000 requests in 10.00s, 9.81MB read
  Non-2xx or 3xx responses: 4
Requests/sec:    900.12
"""


def test_rate_percentiles_in_milliseconds_and_errors_are_read_from_wrk_output():
    figures = wrk.parse(OUTPUT)
    assert figures == {"requests_per_s": 900.12, "requests": 9000, "p50_ms": 0.85, "p75_ms": 1.2, "p90_ms": 2.5,
                       "p99_ms": 1020.0, "non_2xx": 4, "socket_errors": ""}


def test_output_that_is_not_wrks_is_refused_by_name():
    with pytest.raises(ValueError, match="not wrk output"):
        wrk.parse("wrk: command failed")


def test_a_post_script_carries_its_json_body_and_a_paced_one_its_pause():
    script = wrk.lua_script("POST", '{"title": "x"}', delay_ms=64)
    assert 'wrk.method = "POST"' in script
    assert 'wrk.body = [[{"title": "x"}]]' in script and 'wrk.headers["Content-Type"] = "application/json"' in script
    assert "function delay() return 64.000 end" in script
    assert "delay" not in wrk.lua_script()


def test_the_median_of_runs_keeps_every_run():
    runs = [{"requests_per_s": r, "p99_ms": p, "socket_errors": ""} for r, p in ((100, 9), (300, 1), (200, 5))]
    assert wrk.median_of(runs) == {"requests_per_s": 200, "p99_ms": 5, "runs": runs}
