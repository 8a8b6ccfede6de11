"""Who hears of a task event, and in which words."""
from dataclasses import replace

from notify_svc.rules import Notice, notices_for
from taskwire_common.contracts import Actor, read_task_event, task_created, task_deleted, task_updated

TASK = {"id": 9, "title": "Fix login", "priority": "high", "status": "todo", "due_date": "2026-12-01",
        "assigned_user": 2}


def event(kind, actor=1, task=None, changes=None):
    """The task event of that kind as notify_svc reads it; a kind the contract lacks is a created one renamed."""
    who, body = Actor(actor, "admin" if actor == 1 else "ann"), {**TASK, **(task or {})}
    if kind == "updated":
        return read_task_event(task_updated(body, changes or {}, who))
    if kind == "deleted":
        return read_task_event(task_deleted(body, who))
    created = read_task_event(task_created(body, who))
    return created if kind == "created" else replace(created, type=f"task.{kind}")


def test_a_new_task_tells_its_assignee():
    assert notices_for(event("created")) == [
        Notice(2, "assigned", "admin assigned you 'Fix login' (high, due 2026-12-01)")]


def test_a_new_task_without_assignee_or_due_date():
    assert notices_for(event("created", task={"assigned_user": None})) == []
    assert notices_for(event("created", task={"due_date": None, "assigned_user": 3})) == [
        Notice(3, "assigned", "admin assigned you 'Fix login' (high, no due date)")]


def test_nobody_hears_of_their_own_action():
    assert notices_for(event("created", actor=2)) == []
    assert notices_for(event("updated", actor=2, changes={"status": ["todo", "completed"]})) == []
    assert notices_for(event("deleted", actor=2)) == []


def test_an_update_names_the_fields_and_their_old_and_new_values():
    changes = {"status": ["todo", "in_progress"], "priority": ["low", "high"], "due_date": [None, "2026-12-01"],
               "title": ["Fix logn", "Fix login"], "description": ["a", "b"]}
    [notice] = notices_for(event("updated", changes=changes))
    words = ("status todo → in progress, priority low → high, due date none → 2026-12-01, "
             "title 'Fix logn' → 'Fix login', description edited")
    assert notice == Notice(2, "updated", f"admin changed 'Fix login': {words}", words)


def test_a_reassignment_tells_the_new_and_the_old_assignee():
    notices = notices_for(event("updated", task={"assigned_user": 3}, changes={"assigned_user": [2, 3]}))
    assert notices == [Notice(3, "assigned", "admin assigned you 'Fix login' (high, due 2026-12-01)"),
                       Notice(2, "unassigned", "'Fix login' is no longer assigned to you (admin reassigned it)")]


def test_unassigning_tells_the_old_assignee_only():
    notices = notices_for(event("updated", task={"assigned_user": None}, changes={"assigned_user": [2, None]}))
    assert notices == [Notice(2, "unassigned", "'Fix login' is no longer assigned to you (admin reassigned it)")]


def test_taking_a_task_from_someone_tells_them_but_not_the_actor():
    notices = notices_for(event("updated", actor=2, task={"assigned_user": 2}, changes={"assigned_user": [3, 2]}))
    assert notices == [Notice(3, "unassigned", "'Fix login' is no longer assigned to you (ann reassigned it)")]


def test_a_deleted_task_tells_its_assignee():
    assert notices_for(event("deleted")) == [Notice(2, "deleted", "admin deleted 'Fix login'")]


def test_an_event_of_an_unknown_kind_tells_nobody():
    assert notices_for(event("archived")) == []
