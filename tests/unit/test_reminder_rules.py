"""When a task is due soon or overdue, what a muted kind silences, and which task event the projection keeps."""
from datetime import date, datetime, timedelta, timezone

import pytest

from notify_svc.projection import newest_rows
from notify_svc.rules import (
    Notice,
    audible,
    due_at,
    last_due_date_reminded,
    preferences,
    reminder_kind,
    reminder_message,
    unknown_kinds,
    updated_message,
)
from taskwire_common.contracts import Actor, read_task_event, task_deleted, task_updated

DAY = 24
LEAD = timedelta(hours=DAY)
DUE = date(2026, 12, 1)


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_a_task_due_on_a_day_is_due_at_the_end_of_that_day_in_utc():
    assert due_at(DUE) == at("2026-12-02T00:00:00")


@pytest.mark.parametrize("now, kind", [
    ("2026-11-30T23:59:59", None),
    ("2026-12-01T00:00:00", "due_soon"),  # 24 h before the end of the day it is due
    ("2026-12-01T23:59:59", "due_soon"),
    ("2026-12-02T00:00:00", "overdue"),
    ("2027-01-01T00:00:00", "overdue"),
])
def test_due_soon_within_the_lead_and_overdue_once_the_day_is_over(now, kind):
    assert reminder_kind(DUE, at(now), LEAD) == kind


def test_a_task_due_today_is_due_soon_at_once_with_the_default_lead():
    now = at("2026-12-01T08:15:00")
    assert reminder_kind(now.date(), now, LEAD) == "due_soon"
    assert reminder_kind(now.date(), now, timedelta(hours=1)) is None


def test_the_last_due_date_reminded_agrees_with_the_kind_of_each_date():
    for now in (at("2026-12-01T00:00:00"), at("2026-12-01T13:30:00"), at("2026-11-30T23:59:59")):
        last = last_due_date_reminded(now, LEAD)
        assert reminder_kind(last, now, LEAD) is not None
        assert reminder_kind(last + timedelta(days=1), now, LEAD) is None
    assert reminder_kind(last_due_date_reminded(at("2026-12-02T00:00:00"), timedelta(0)),
                         at("2026-12-02T00:00:00"), LEAD) == "overdue"


def test_reminders_name_the_task_and_its_date():
    assert reminder_message("due_soon", "Fix login", "high", DUE) == "'Fix login' is due soon: due 2026-12-01 (high)"
    assert reminder_message("overdue", "Fix login", "high", DUE) == \
        "'Fix login' is overdue: it was due 2026-12-01 (high)"


def test_a_muted_kind_is_silent_for_that_user_only():
    notices = [Notice(2, "updated", "a"), Notice(3, "updated", "b"), Notice(2, "deleted", "c")]
    assert audible(notices, {2: {"updated"}}) == [Notice(3, "updated", "b"), Notice(2, "deleted", "c")]
    assert audible(notices, {}) == notices


def test_preferences_are_every_kind_on_unless_muted():
    assert preferences(set()) == {"assigned": True, "updated": True, "unassigned": True, "deleted": True,
                                  "due_soon": True, "overdue": True}
    assert preferences({"overdue"})["overdue"] is False


def test_unknown_kinds_are_named_in_order():
    assert unknown_kinds(["updated", "zeta", "alpha"]) == ["alpha", "zeta"]


def test_a_folded_message_names_every_change_in_order():
    assert updated_message("admin", "Fix login", ["priority low → high", "status todo → in progress"]) == \
        "admin changed 'Fix login': priority low → high; status todo → in progress"


TASK = {"id": 9, "title": "Fix login", "priority": "high", "status": "todo", "due_date": "2026-12-01",
        "assigned_user": 2, "version": 3}


def updated(version, **fields):
    return read_task_event(task_updated({**TASK, **fields, "version": version}, {"status": ["a", "b"]}, Actor(1, "a")))


def test_the_projection_keeps_the_highest_version_whatever_the_order():
    events = [updated(5, status="completed"), updated(4, status="in_progress"), updated(5, status="completed")]
    [row] = newest_rows(events)
    assert (row["version"], row["status"], row["due_date"], row["deleted"]) == (5, "completed", DUE, False)


def test_a_delete_wins_over_the_update_of_the_same_version():
    deleted = read_task_event(task_deleted({**TASK, "version": 5}, Actor(1, "a")))
    assert newest_rows([deleted, updated(5)])[0]["deleted"] is True
    assert newest_rows([updated(6), deleted])[0]["deleted"] is False
