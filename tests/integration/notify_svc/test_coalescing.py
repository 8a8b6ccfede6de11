"""Quick updates of one task by one person fold into one notification, pushed again with the same id."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from taskwire_common.db import db
from tests.integration.notify_svc.conftest import task_event

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
PRIORITIES = ["low", "medium", "high", "low", "medium", "high"]


def edits(count, actor=1, start=START, every=timedelta(seconds=5), first_version=2):
    """`count` priority changes by `actor`, `every` apart."""
    return [task_event("updated", version=first_version + n, actor=actor, at=start + n * every,
                       priority=PRIORITIES[n + 1], changes={"priority": [PRIORITIES[n], PRIORITIES[n + 1]]})
            for n in range(count)]


def updated_rows(app):
    with app.app_context():
        return [dict(row._mapping) for row in db.session.execute(text(
            "SELECT id, \"user\", message, count, is_read FROM notifications WHERE kind = 'updated' ORDER BY id"))]


def test_five_quick_edits_make_one_notification_with_count_five_naming_each_change(notify_db, handle, outbox):
    for event in edits(5):
        handle(event)
    [row] = updated_rows(notify_db)
    assert row["count"] == 5
    assert row["message"] == ("admin changed 'Fix login': priority low → medium; priority medium → high; "
                              "priority high → low; priority low → medium; priority medium → high")
    pushed = outbox()
    assert [key for key, _ in pushed] == ["notification.created"] + ["notification.updated"] * 4
    assert {n["id"] for _, n in pushed} == {row["id"]} and [n["count"] for _, n in pushed] == [1, 2, 3, 4, 5]
    assert pushed[-1][1]["message"] == row["message"] and pushed[-1][1]["kind"] == "updated"


def test_edits_in_one_batch_fold_the_same_way(notify_db, handle, outbox):
    handle(*edits(5))
    [row] = updated_rows(notify_db)
    assert row["count"] == 5 and len(outbox()) == 5


def test_a_redelivered_edit_never_folds_twice(notify_db, handle, outbox):
    first, second = edits(2)
    handle(first)
    handle(second)
    handle(second)
    handle(first, second)
    [row] = updated_rows(notify_db)
    assert row["count"] == 2 and len(outbox()) == 2


def test_another_actors_edit_starts_a_new_notification(notify_db, handle):
    handle(*edits(2))
    handle(*edits(1, actor=5, start=START + timedelta(seconds=20), first_version=4))
    assert [(row["count"], row["message"].split(" ")[0]) for row in updated_rows(notify_db)] == [
        (2, "admin"), (1, "user5")]


def test_an_edit_after_the_notification_was_read_starts_a_new_one(notify_db, handle):
    first, second = edits(2)
    handle(first)
    with notify_db.app_context():
        db.session.execute(text("UPDATE notifications SET is_read = true"))
        db.session.commit()
    handle(second)
    assert [(row["count"], row["is_read"]) for row in updated_rows(notify_db)] == [(1, True), (1, False)]


def test_an_edit_later_than_the_window_starts_a_new_one(notify_db, handle):
    handle(*edits(2, every=timedelta(seconds=30)))  # within 60 s of the last change folded: one
    handle(*edits(1, start=START + timedelta(seconds=30 + 61), first_version=4))
    assert [row["count"] for row in updated_rows(notify_db)] == [2, 1]


def test_only_updates_fold_not_assignments(notify_db, handle, stored_notifications):
    handle(task_event(at=START), *edits(1))
    handle(task_event("updated", version=3, assigned_user=3, changes={"assigned_user": [2, 3]},
                      at=START + timedelta(seconds=10)))
    assert [row[1].split(":")[0] for row in stored_notifications()] == [
        "admin assigned you 'Fix login' (high, due 2026-12-02)", "admin changed 'Fix login'",
        "admin assigned you 'Fix login' (high, due 2026-12-02)",
        "'Fix login' is no longer assigned to you (admin reassigned it)"]
