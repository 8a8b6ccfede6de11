"""The bench's pure parts: CPU per request between two /proc snapshots, the medians of the rounds, the gate."""
from bench.against_ceiling import cpu_ms_per_request, summary
from bench.report import FRACTION_TARGETS, markdown_table, regressions


def test_cpu_per_request_is_each_groups_share_and_a_process_new_since_the_first_snapshot_counts_whole():
    before = {("tasks_svc", 10): 5.0, ("postgresql", 20): 1.0, ("rabbitmq", 30): 2.0}
    after = {("tasks_svc", 10): 6.0, ("tasks_svc", 11): 0.5, ("postgresql", 20): 1.4, ("rabbitmq", 30): 2.0}
    assert cpu_ms_per_request(before, after, 1000) == {"tasks_svc": 1.5, "postgresql": 0.4, "total": 1.9}


def test_no_requests_divides_by_one_rather_than_failing():
    assert cpu_ms_per_request({}, {("nginx", 1): 0.002}, 0) == {"nginx": 2.0, "total": 2.0}


def test_a_sides_summary_is_the_median_of_its_rounds_per_group():
    runs = [{"requests_per_s": rate, "cpu_ms_per_request": {"tasks_svc": cpu, "total": cpu}}
            for rate, cpu in [(900, 1.2), (700, 1.6), (1000, 1.1)]]
    runs[1]["cpu_ms_per_request"]["rabbitmq"] = 0.3  # a group seen in one round only counts 0 in the others
    assert summary(runs) == {"requests_per_s": 900, "cpu_ms_per_request": {"rabbitmq": 0.0, "tasks_svc": 1.2,
                                                                            "total": 1.2}}


def scenario(fraction: float) -> dict:
    return {"requests_per_s": 600.0, "ceiling_requests_per_s": 600.0 / fraction, "fraction": fraction,
            "cpu_ms_per_request": {"total": 1.5}, "ceiling_cpu_ms_per_request": {"total": 0.9},
            "paced_requests_per_s": 300.0, "p50_ms": 2.0, "p99_ms": 9.0, "load_1min": {"min": 0.5, "max": 1.0}}


def test_the_gate_fails_a_scenario_below_half_its_target_fraction_and_only_that():
    target = FRACTION_TARGETS["list_tasks"]
    results = {"scenarios": {"list_tasks": scenario(target / 2 - 0.01), "list_notifications": scenario(target / 2)}}
    assert regressions(results) == [f"list_tasks at {target / 2 - 0.01:.0%} of its ceiling, below {target / 2:.0%}"]


def test_the_table_shows_fraction_absolute_cpu_and_whether_the_target_is_met():
    results = {"date": "2026-12-04T18:00:00+00:00", "quick": False, "scenarios": {"list_tasks": scenario(0.8)},
               "machine": {"cores": 2, "cpu": "Xeon", "memory_gib": 23.5}}
    table = markdown_table(results)
    assert "600 req/s = **80%** of the ceiling's 750; CPU 1.5 ms/request (ceiling 0.9)" in table
    assert "| ≥ 75% of the ceiling; p99 ≤ 20 ms | yes |" in table
    assert "Regression gate (a fraction below half its target): passed" in table
