"""The bench's commit moments: one outbox notification per create, in order, never before the create was sent."""
import pytest

from bench.commits import CommitWatch


def watch_that_noticed(*arrivals: float) -> CommitWatch:
    watch = CommitWatch.__new__(CommitWatch)  # no listener process: only the matching is under test
    watch.arrivals = list(arrivals)
    return watch


def test_each_create_gets_the_notification_in_its_place():
    assert watch_that_noticed(1.004, 1.013, 1.031).commits_of([1.0, 1.01, 1.02], wait_seconds=0) == [1.004, 1.013,
                                                                                                      1.031]


def test_a_notification_too_many_or_missing_fails_the_run():
    with pytest.raises(RuntimeError, match="3 outbox notifications for 2 creates"):
        watch_that_noticed(1.004, 1.005, 1.013).commits_of([1.0, 1.01], wait_seconds=0)
    with pytest.raises(RuntimeError, match="1 outbox notifications for 2 creates"):
        watch_that_noticed(1.004).commits_of([1.0, 1.01], wait_seconds=0)


def test_a_notification_before_its_create_was_sent_is_another_writers():
    with pytest.raises(RuntimeError, match="create 1's commit was noticed .* before it was sent"):
        watch_that_noticed(1.004, 1.006).commits_of([1.0, 1.01], wait_seconds=0)
