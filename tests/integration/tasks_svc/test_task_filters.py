"""Task list filters, alone and combined, ordering and pagination; every bad value a 400 naming it."""
import pytest

from tests.integration.support import TASKS_DATABASE_URL, planner_statistics_held, run_sql
from tests.support import bearer, walk_pages

TASKS = [  # title, description, priority, status, due_date, assignee
    ("Write report", "quarterly numbers", "high", "todo", "2026-12-01", 2),
    ("Fix login bug", "users see a 500", "high", "in_progress", "2026-12-03", 2),
    ("Review PR", "small change", "low", "completed", "2026-11-20", 2),
    ("Plan sprint", "with the team", "medium", "todo", None, 3),
    ("Update docs", "README and LOGIN page", "low", "todo", "2026-12-03", 3),
    ("Deploy", "100% of servers", "medium", "completed", "2026-12-10", None),
]


@pytest.fixture
def seeded(tasks_client, people):
    admin = bearer(people["root"])
    for title, description, priority, status, due, assignee in TASKS:
        response = tasks_client.post("/api/tasks/", headers=admin, json={
            "title": title, "description": description, "priority": priority, "status": status,
            "due_date": due, "assigned_user": assignee})
        assert response.status_code == 201
    return people


def titles(client, token, query):
    response = client.get(f"/api/tasks/?{query}", headers=bearer(token))
    assert response.status_code == 200, response.json
    return [task["title"] for task in response.json]


@pytest.mark.parametrize("query,expected", [
    ("status=todo&ordering=id", ["Write report", "Plan sprint", "Update docs"]),
    ("status=todo,completed&ordering=id", ["Write report", "Review PR", "Plan sprint", "Update docs", "Deploy"]),
    ("priority=high&ordering=id", ["Write report", "Fix login bug"]),
    ("priority=low,medium&ordering=id", ["Review PR", "Plan sprint", "Update docs", "Deploy"]),
    ("due_date=2026-12-03&ordering=id", ["Fix login bug", "Update docs"]),
    ("due_date=2026-12-01,2026-11-20&ordering=id", ["Write report", "Review PR"]),
    ("assigned_user=3&ordering=id", ["Plan sprint", "Update docs"]),
    ("assigned_user=2,3&status=todo&ordering=id", ["Write report", "Plan sprint", "Update docs"]),
    ("due_before=2026-12-03&ordering=id", ["Write report", "Review PR"]),
    ("due_after=2026-12-01&ordering=id", ["Fix login bug", "Update docs", "Deploy"]),
    ("due_after=2026-11-20&due_before=2026-12-10&ordering=id", ["Write report", "Fix login bug", "Update docs"]),
    ("q=login&ordering=id", ["Fix login bug", "Update docs"]),
    ("q=100%25&ordering=id", ["Deploy"]),
    ("q=_&ordering=id", []),
    ("q=login&priority=low", ["Update docs"]),
    ("status=todo&priority=high&assigned_user=2&due_before=2026-12-02", ["Write report"]),
])
def test_filters_alone_and_combined(tasks_client, seeded, query, expected):
    assert titles(tasks_client, seeded["root"], query) == expected


@pytest.mark.parametrize("query,expected", [
    ("ordering=-priority,title", ["Fix login bug", "Write report", "Deploy", "Plan sprint", "Review PR",
                                  "Update docs"]),
    ("ordering=due_date,title", ["Review PR", "Write report", "Fix login bug", "Update docs", "Deploy",
                                 "Plan sprint"]),
    ("ordering=status,-id", ["Update docs", "Plan sprint", "Write report", "Fix login bug", "Deploy",
                             "Review PR"]),
    ("", ["Review PR", "Write report", "Fix login bug", "Update docs", "Deploy", "Plan sprint"]),
])
def test_ordering(tasks_client, seeded, query, expected):
    assert titles(tasks_client, seeded["root"], query) == expected


def test_a_users_filters_apply_to_their_own_tasks_only(tasks_client, seeded):
    assert titles(tasks_client, seeded["ann"], "status=todo") == ["Write report"]
    assert titles(tasks_client, seeded["ann"], "assigned_user=3") == []


def test_pages_with_total_and_links(tasks_client, seeded):
    response = tasks_client.get("/api/tasks/?ordering=id&page=2&page_size=4", headers=bearer(seeded["root"]))
    assert [t["title"] for t in response.json] == ["Update docs", "Deploy"]
    assert response.headers["X-Total-Count"] == "6"
    links = response.headers["Link"]
    assert 'page=1&page_size=4>; rel="prev"' in links and 'rel="next"' not in links
    assert "ordering=id" in links


def test_a_page_past_the_end_is_empty(tasks_client, seeded):
    response = tasks_client.get("/api/tasks/?page=9", headers=bearer(seeded["root"]))
    assert response.status_code == 200 and response.json == [] and response.headers["X-Total-Count"] == "6"


@pytest.mark.parametrize("query,parameter", [
    ("priority=urgent", "priority"), ("priority=high,urgent", "priority"), ("priority=", "priority"),
    ("status=done", "status"), ("due_date=2024-13-45", "due_date"), ("due_date=2024-1-2", "due_date"),
    ("due_before=tomorrow", "due_before"), ("due_after=2024-02-30", "due_after"),
    ("assigned_user=abc", "assigned_user"), ("assigned_user=0", "assigned_user"),
    ("assigned_user=99999999999", "assigned_user"), ("page=0", "page"), ("page=x", "page"),
    ("page_size=101", "page_size"), ("page_size=0", "page_size"), ("ordering=password", "ordering"),
    ("ordering=title,-secret", "ordering"), ("ordering=", "ordering"), ("q=", "q"), ("q=" + "x" * 201, "q"),
    ("colour=blue", "colour"), ("status=todo&status=completed", "status"),
    ("q=%00", "q"),
])
def test_bad_parameters_are_a_400_naming_them(tasks_client, seeded, query, parameter):
    response = tasks_client.get(f"/api/tasks/?{query}", headers=bearer(seeded["root"]))
    assert response.status_code == 400, response.json
    assert parameter in response.json["errors"]


def test_bytes_that_are_not_utf8_in_a_query_are_read_as_replacement_characters(tasks_client, seeded):
    response = tasks_client.get("/api/tasks/?q=%ED%A0%80%FF", headers=bearer(seeded["root"]))
    assert response.status_code == 200 and response.json == []


@pytest.mark.parametrize("page,titles_expected,total", [(1, ["Review PR", "Write report"], "3"),
                                                        (2, ["Fix login bug"], "3"), (5, [], "3")])
def test_a_users_pages_carry_the_same_total(tasks_client, seeded, page, titles_expected, total):
    response = tasks_client.get(f"/api/tasks/?page_size=2&page={page}", headers=bearer(seeded["ann"]))
    assert [t["title"] for t in response.json] == titles_expected
    assert response.headers["X-Total-Count"] == total


def test_a_total_up_to_the_limit_is_exact_and_says_so_by_no_header(tasks_client, seeded):
    response = tasks_client.get("/api/tasks/?page_size=2", headers=bearer(seeded["root"]))
    assert response.headers["X-Total-Count"] == "6" and "X-Total-Count-Estimated" not in response.headers


def test_a_total_past_the_limit_is_the_planners_estimate(tasks_client, tasks_db, seeded, monkeypatch):
    from taskwire_common import pagination
    admin = bearer(seeded["root"])
    for number in range(60):
        assert tasks_client.post("/api/tasks/", headers=admin, json={"title": f"Bulk {number}"}).status_code == 201
    run_sql(TASKS_DATABASE_URL, "ANALYZE tasks")  # what autovacuum does for a real table: the planner's statistics
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 10)
    response = tasks_client.get("/api/tasks/?page_size=5&ordering=id", headers=admin)
    assert response.status_code == 200 and len(response.json) == 5
    assert response.headers["X-Total-Count-Estimated"] == "true"
    estimate = int(response.headers["X-Total-Count"])
    assert 11 <= estimate and abs(estimate - 66) <= 7, estimate  # ANALYZE read every row of so small a table
    assert f'page={-(-estimate // 5)}&page_size=5>; rel="last"' in response.headers["Link"]
    again = tasks_client.get("/api/tasks/?page_size=5&ordering=id&page=2", headers=admin)  # compiled before
    assert again.status_code == 200 and again.headers["X-Total-Count"] == str(estimate)
    filtered = tasks_client.get("/api/tasks/?page_size=5&q=Bulk", headers=admin)  # the planner guesses at ILIKE
    assert filtered.headers["X-Total-Count-Estimated"] == "true" and int(filtered.headers["X-Total-Count"]) >= 11
    few = tasks_client.get("/api/tasks/?page_size=5&status=in_progress", headers=admin)
    assert few.headers["X-Total-Count"] == "1" and "X-Total-Count-Estimated" not in few.headers


def walk(client, headers, query):
    """Every page by following rel="next" from page 1: the pages' titles, and the totals each page reported."""
    return [([task["title"] for task in tasks], total)
            for tasks, total in walk_pages(client, f"/api/tasks/?{query}", headers)]


@pytest.fixture
def planner_left_alone():
    with planner_statistics_held(TASKS_DATABASE_URL, "tasks"):
        yield


def test_next_reaches_every_task_when_the_estimate_is_stale_low(tasks_client, seeded, planner_left_alone,
                                                               monkeypatch):
    from taskwire_common import pagination
    run_sql(TASKS_DATABASE_URL, "ANALYZE tasks")  # the planner sees 6 tasks
    admin = bearer(seeded["root"])
    for number in range(60):
        assert tasks_client.post("/api/tasks/", headers=admin, json={"title": f"Bulk {number}"}).status_code == 201
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 10)
    pages = walk(tasks_client, admin, "page_size=5&ordering=id")
    shown = [name for names, _ in pages for name in names]
    assert len(shown) == 66 and len(set(shown)) == 66
    assert pages[-1][1] == 66  # the last page knows the exact total
    assert all(total >= 5 * number + 1 for number, (_, total) in enumerate(pages[:-1], start=1))


def test_past_the_end_of_a_stale_high_estimate_last_points_back_into_the_list(tasks_client, seeded,
                                                                              planner_left_alone, monkeypatch):
    from taskwire_common import pagination
    admin = bearer(seeded["root"])
    for number in range(60):
        assert tasks_client.post("/api/tasks/", headers=admin, json={"title": f"Bulk {number}"}).status_code == 201
    run_sql(TASKS_DATABASE_URL, "ANALYZE tasks",
            "DELETE FROM tasks WHERE title LIKE 'Bulk %' AND title <> 'Bulk 0'")  # 7 left
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    past = tasks_client.get("/api/tasks/?page_size=2&page=6", headers=admin)
    assert past.status_code == 200 and past.json == []
    assert past.headers["X-Total-Count-Estimated"] == "true" and int(past.headers["X-Total-Count"]) <= 10
    assert 'page=6&page_size=2>; rel="last"' not in past.headers["Link"]
    pages = walk(tasks_client, admin, "page_size=2&ordering=id")
    assert [len(names) for names, _ in pages] == [2, 2, 2, 1] and pages[-1][1] == 7


def test_a_list_survives_its_pooled_connections_being_killed(tasks_client, seeded, kill_connections):
    """The read pool pings nothing: a read that meets a dead connection reads again on a new one."""
    assert titles(tasks_client, seeded["root"], "status=todo&ordering=id") == [
        "Write report", "Plan sprint", "Update docs"]
    kill_connections()
    assert titles(tasks_client, seeded["root"], "status=todo&ordering=id") == [
        "Write report", "Plan sprint", "Update docs"]
    assert titles(tasks_client, seeded["ann"], "status=todo") == ["Write report"]
