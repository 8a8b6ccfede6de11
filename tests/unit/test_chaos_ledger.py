"""The fault run's bookkeeping: it must catch every kind of loss, double and leak it reports on."""
from collections import Counter
from dataclasses import replace

from chaos.ledger import (
    Change,
    Session,
    account_events,
    account_notifications,
    account_resumed,
    account_sessions,
    expected_notices,
    expected_notifications,
    failures_of,
)
from taskwire_common import contracts

ADMIN, ANN, BOB = 1, 2, 3
ACTOR = contracts.Actor(ADMIN, "admin")


def task(task_id=10, assignee=ANN, **fields):
    return {"id": task_id, "title": "t", "priority": "low", "status": "todo", "assigned_user": assignee, **fields}


def event(event_id, kind, task_id=10, assignee=ANN, old_assignee=None):
    """A task event as the tap reads it, under a chosen id (the same id twice is a redelivery)."""
    changed = task(task_id, assignee)
    if kind == contracts.TASK_CREATED:
        made = contracts.task_created(changed, ACTOR)
    elif kind == contracts.TASK_DELETED:
        made = contracts.task_deleted(changed, ACTOR)
    else:
        changes = {"assigned_user": [old_assignee, assignee]} if old_assignee is not None else {}
        made = contracts.task_updated(changed, changes, ACTOR)
    return replace(contracts.read_task_event(made), id=event_id)


def test_notices_follow_the_rules_and_nobody_hears_of_their_own_act():
    created = Change("task.created", 10, ADMIN, None, task())
    own = Change("task.created", 11, ANN, None, task(11))
    edited = Change("task.updated", 10, ADMIN, task(), task(status="completed"))
    edited_by_assignee = Change("task.updated", 10, ANN, task(), task(status="completed"))
    reassigned = Change("task.updated", 10, ADMIN, task(), task(assignee=BOB))
    deleted = Change("task.deleted", 10, ADMIN, task(assignee=BOB), None)
    unassigned_deleted = Change("task.deleted", 10, ADMIN, task(assignee=None), None)
    assert expected_notices(created) == Counter({(ANN, 10, "task.created"): 1})
    assert expected_notices(own) == Counter() and expected_notices(edited_by_assignee) == Counter()
    assert expected_notices(edited) == Counter({(ANN, 10, "task.updated"): 1})
    assert expected_notices(reassigned) == Counter({(ANN, 10, "task.updated"): 1, (BOB, 10, "task.updated"): 1})
    assert expected_notices(deleted) == Counter({(BOB, 10, "task.deleted"): 1})
    assert expected_notices(unassigned_deleted) == Counter()


CHANGES = [Change("task.created", 10, ADMIN, None, task()),
           Change("task.updated", 10, ADMIN, task(), task(status="completed")),
           Change("task.deleted", 10, ADMIN, task(status="completed"), None)]


def test_every_change_with_exactly_one_event_in_order_is_clean_and_redeliveries_are_counted_apart():
    events = [event("a", "task.created"), event("b", "task.updated"), event("b", "task.updated"),
              event("c", "task.deleted")]
    assert account_events(CHANGES, events) == {"changes": 3, "events": 3, "lost": 0, "extra": 0,
                                               "out_of_order_tasks": 0, "redelivered_copies": 1, "examples": []}


def test_a_lost_an_extra_and_a_reordered_event_are_each_caught():
    lost = account_events(CHANGES, [event("a", "task.created"), event("c", "task.deleted")])
    extra = account_events(CHANGES[:1], [event("a", "task.created"), event("x", "task.created", task_id=99)])
    reordered = account_events(CHANGES, [event("b", "task.updated"), event("a", "task.created"),
                                         event("c", "task.deleted")])
    assert (lost["lost"], extra["extra"], reordered["out_of_order_tasks"]) == (1, 1, 1)
    assert lost["examples"] == [{"task": 10, "committed": [c.kind for c in CHANGES],
                                 "delivered": ["task.created", "task.deleted"]}]


def test_missing_doubled_and_foreign_notifications_are_caught():
    expected = expected_notifications(CHANGES)  # Ann: created, updated, deleted
    note = {"user": ANN, "task_id": 10}
    exact = {ANN: [{**note, "event_type": k} for k in ("task.created", "task.updated", "task.deleted")]}
    assert account_notifications(expected, exact)["missing"] == 0
    doubled = {ANN: exact[ANN] + exact[ANN][:1]}
    missing = {ANN: exact[ANN][1:]}
    foreign = {ANN: exact[ANN], BOB: [exact[ANN][0]]}
    assert account_notifications(expected, doubled)["doubled_or_unexpected"] == 1
    assert account_notifications(expected, missing)["missing"] == 1
    assert account_notifications(expected, foreign)["foreign"] == 1


def test_a_folded_notification_stands_for_its_count_of_notices():
    two_edits = [Change("task.updated", 10, ADMIN, task(), task(status=status))
                 for status in ("in_progress", "completed")]
    expected = expected_notifications(two_edits)
    folded = {ANN: [{"user": ANN, "task_id": 10, "event_type": "task.updated", "count": 2}]}
    assert account_notifications(expected, folded) | {"foreign": 0} == {
        "expected": 2, "stored": 2, "missing": 0, "doubled_or_unexpected": 0, "foreign": 0}
    folded_once_too_often = {ANN: [{**folded[ANN][0], "count": 3}]}
    assert account_notifications(expected, folded_once_too_often)["doubled_or_unexpected"] == 1


TAP = [event("a", "task.created"), event("b", "task.created", 11, BOB), event("c", "task.updated"),
       event("d", "task.updated", 10, BOB, old_assignee=ANN), event("e", "task.created", 12, BOB)]


def test_a_session_that_skips_an_event_it_may_see_has_a_gap():
    whole = Session(opened=0, event_ids=["a", "c", "d"])
    skipping = Session(opened=0, event_ids=["a", "d"])  # c was for Ann while her socket was live
    assert account_sessions([whole], TAP, ANN, False)["gaps"] == 0
    assert account_sessions([skipping], TAP, ANN, False)["gaps"] == 1
    # The reassignment away from Ann (d) is hers to see; Bob's own tasks are not.
    assert account_sessions([Session(opened=0, event_ids=["a", "b", "c", "d", "e"])], TAP, ADMIN, True)["gaps"] == 0


def test_events_and_notifications_for_someone_else_are_leaks():
    leaking = Session(opened=0, event_ids=["a", "b"], notifications=[{"user": BOB}])
    assert account_sessions([leaking], TAP, ANN, False)["leaks"] == 2


def test_an_event_twice_on_one_socket_is_a_duplicate_unless_it_was_published_twice():
    twice = Session(opened=0, event_ids=["a", "a"])
    assert account_sessions([twice], TAP, ANN, False)["duplicates"] == 1
    assert account_sessions([twice], [TAP[0], TAP[0]], ANN, False)["duplicates"] == 0


def test_a_resuming_clients_sockets_are_one_feed_gap_and_double_across_them_count():
    """Each of its sockets resumed where the one before ended: what fell between two sockets is a gap."""
    whole = [Session(opened=0, event_ids=["a"]), Session(opened=1, since="1.x", event_ids=["c", "d"])]
    accounted = account_resumed(whole, TAP, ANN, False)
    assert (accounted["gaps"], accounted["duplicates"], accounted["resumed"]) == (0, 0, 1)
    lost_between = [Session(opened=0, event_ids=["a"]), Session(opened=1, since="1.x", event_ids=["d"])]
    assert account_resumed(lost_between, TAP, ANN, False)["gaps"] == 1
    replayed_twice = [Session(opened=0, event_ids=["a", "c"]), Session(opened=1, since="1.x", event_ids=["c", "d"])]
    assert account_resumed(replayed_twice, TAP, ANN, False)["duplicates"] == 1
    resynced = [Session(opened=0, event_ids=["a"], resyncs=1, notifications=[{"id": 5}, {"id": 5}])]
    assert account_resumed(resynced, TAP, ANN, False)["resyncs"] == 1
    assert account_resumed(resynced, TAP, ANN, False)["notifications_twice"] == 1
    folded_again = [Session(opened=0, event_ids=["a"], notifications=[{"id": 5, "count": 1}, {"id": 5, "count": 2}])]
    assert account_resumed(folded_again, TAP, ANN, False)["notifications_twice"] == 0


def test_watchers_are_accounted_by_username_and_totalled():
    from types import SimpleNamespace

    from chaos.ledger import account_watchers

    ann = SimpleNamespace(person=SimpleNamespace(username="ann", id=ANN, is_admin=False),
                          sessions=[Session(opened=0, event_ids=["a", "d"])])
    admin = SimpleNamespace(person=SimpleNamespace(username="admin", id=ADMIN, is_admin=True),
                            sessions=[Session(opened=0, event_ids=["a", "b", "c", "d", "e"])])
    per_person, totals = account_watchers([ann, admin], TAP, account_sessions)
    assert per_person["ann"]["gaps"] == 1 and per_person["admin"]["gaps"] == 0
    assert totals["gaps"] == 1 and totals["events"] == 7 and totals["sessions"] == 2


def test_a_run_with_clean_accounts_has_no_failures_and_each_fault_is_named():
    events = {"lost": 0, "extra": 0, "out_of_order_tasks": 0}
    notifications = {"missing": 0, "doubled_or_unexpected": 0, "foreign": 0}
    sockets = {"leaks": 0, "gaps": 0, "duplicates": 0, "unknown": 0}
    resumed = {**sockets, "notifications_twice": 0, "resyncs": 0, "resumed": 3}
    final = {"missing_at_watchers": 0}
    assert failures_of(events, notifications, sockets, resumed, final, errors=0, healthy=True) == []
    assert failures_of(events, notifications, {**sockets, "gaps": 1}, {**resumed, "resumed": 0}, final,
                       errors=2, healthy=False) == [
        "websocket gaps", "resuming sockets never resumed", "request errors", "not healthy afterwards"]
