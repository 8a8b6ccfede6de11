"""A batch of task events: a notification and an event each, exactly once, for a fixed few statements however large."""
from contextlib import contextmanager

from sqlalchemy import event as sqlalchemy_event, text

from taskwire_common.db import db
from tests.integration.notify_svc.conftest import task_event


def creates(count, assignee=2):
    return [task_event(id=100 + number, title=f"task {number}", assigned_user=assignee) for number in range(count)]


@contextmanager
def counted_statements(app):
    """The statements sent to PostgreSQL inside (the pool's `SELECT 1` ping and the COMMIT are not statements)."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    sqlalchemy_event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", record)


def test_a_batch_of_50_creates_makes_one_notification_and_one_event_each(handle, stored_notifications, outbox):
    assert handle(*creates(50)) == 50
    assert sorted(message for _, message, _ in stored_notifications()) == \
        sorted(f"admin assigned you 'task {n}' (high, due 2026-12-02)" for n in range(50))
    published = outbox()
    assert len(published) == 50 and {key for key, _ in published} == {"notification.created"}
    assert len({notification["id"] for _, notification in published}) == 50  # each names its own row


def test_a_redelivered_batch_makes_nothing(handle, stored_notifications, outbox):
    batch = creates(20)
    handle(*batch)
    assert handle(*batch) == 0
    assert len(stored_notifications()) == 20 and len(outbox()) == 20


def test_a_batch_partly_redelivered_makes_only_the_new_ones(handle, stored_notifications):
    first = creates(10)
    handle(*first)
    assert handle(*first[4:], *creates(3, assignee=3)) == 3
    assert len(stored_notifications()) == 13


def test_a_batch_costs_two_statements_however_many_events_it_holds(notify_db, handle):
    for size in (1, 50):
        with counted_statements(notify_db) as sent:
            handle(*[task_event(id=1000 * size + n, title=f"task {n}") for n in range(size)])
        assert len(sent) == 2, sent  # the projection, claim and muted kinds; the notifications and their events


def test_in_one_batch_a_muted_user_hears_nothing_and_the_others_hear_once(notify_db, handle, stored_notifications):
    with notify_db.app_context():
        db.session.execute(text("INSERT INTO muted_kinds (\"user\", kind) VALUES (3, 'assigned')"))
        db.session.commit()
    batch = creates(4, assignee=2) + [task_event(id=200 + n, title=f"muted {n}", assigned_user=3) for n in range(4)]
    assert handle(*batch) == 4
    assert handle(*batch) == 0
    assert {user for user, _, _ in stored_notifications()} == {2}


def test_a_batch_keeps_the_newest_state_of_each_task(notify_db, handle):
    handle(task_event(version=1), task_event("updated", version=3, title="Third"),
           task_event("updated", version=2, title="Second"))
    handle(task_event("updated", version=2, title="Second again"))
    with notify_db.app_context():
        row = db.session.execute(text("SELECT version, title, deleted FROM task_projections WHERE task_id = 9")).one()
    assert tuple(row) == (3, "Third", False)
