"""BatchConfirms' bookkeeping of a channel's delivery tags, with a scripted connection in place of pika's."""
from collections import deque

import pytest
from pika.frame import Method
from pika.spec import Basic, Confirm

from broker import topology
from taskwire_common import confirms, contracts
from taskwire_common.confirms import BatchConfirms, NotConfirmed
from taskwire_common.messaging import ConfirmingPublisher


class ScriptedConnection:
    """Hands one scripted broker frame to the channel's callbacks per process_data_events, then any timers."""

    def __init__(self) -> None:
        self.frames: deque = deque([Method(1, Confirm.SelectOk())])
        self.timers: list = []
        self.on_confirm = self.on_select_ok = None

    def call_later(self, _delay, callback):
        self.timers.append(callback)

    def process_data_events(self, time_limit=0):
        if self.frames:
            frame = self.frames.popleft()
            (self.on_select_ok if isinstance(frame.method, Confirm.SelectOk) else self.on_confirm)(frame)
        for timer in self.timers:
            timer()
        self.timers.clear()


class AsynchronousChannel:
    def __init__(self, connection: ScriptedConnection) -> None:
        self.connection = connection

    def confirm_delivery(self, ack_nack_callback, callback):
        self.connection.on_confirm, self.connection.on_select_ok = ack_nack_callback, callback


class BlockingChannel:
    def __init__(self, connection: ScriptedConnection) -> None:
        self._impl = AsynchronousChannel(connection)


def confirm_mode(count: int) -> tuple[ScriptedConnection, BatchConfirms]:
    connection = ScriptedConnection()
    batch = BatchConfirms(connection, BlockingChannel(connection))  # type: ignore[arg-type]
    for _ in range(count):
        batch.publishing()
    return connection, batch


def test_a_multiple_ack_confirms_every_tag_up_to_it():
    connection, batch = confirm_mode(3)
    connection.frames.extend([Method(1, Basic.Ack(delivery_tag=1)),
                              Method(1, Basic.Ack(delivery_tag=3, multiple=True))])
    batch.wait()
    assert not connection.frames


def test_single_acks_in_any_order_confirm_the_batch_only_once_all_arrived():
    connection, batch = confirm_mode(3)
    connection.frames.extend([Method(1, Basic.Ack(delivery_tag=tag)) for tag in (2, 3, 1)])
    batch.wait()
    assert not connection.frames


def test_the_batch_is_not_confirmed_while_a_tag_is_missing(monkeypatch):
    monkeypatch.setattr(confirms, "CONFIRM_TIMEOUT_SECONDS", 0.05)
    connection, batch = confirm_mode(3)
    connection.frames.extend([Method(1, Basic.Ack(delivery_tag=1)), Method(1, Basic.Ack(delivery_tag=3))])
    with pytest.raises(NotConfirmed, match="no confirms"):
        batch.wait()


def test_a_nack_fails_the_batch_even_if_the_rest_is_acked():
    connection, batch = confirm_mode(3)
    connection.frames.extend([Method(1, Basic.Nack(delivery_tag=2, multiple=True)),
                              Method(1, Basic.Ack(delivery_tag=3))])
    with pytest.raises(NotConfirmed, match="nacked"):
        batch.wait()


def test_the_next_batch_counts_on_from_the_channels_last_tag():
    connection, batch = confirm_mode(2)
    connection.frames.append(Method(1, Basic.Ack(delivery_tag=2, multiple=True)))
    batch.wait()
    batch.publishing()
    connection.frames.append(Method(1, Basic.Ack(delivery_tag=3)))
    batch.wait()
    assert not connection.frames



def test_a_confirm_handled_while_the_batch_is_still_being_published_counts():
    # pika reads what has arrived while it writes a publish, so a confirm can come before the batch is complete.
    connection, batch = confirm_mode(1)
    connection.on_confirm(Method(1, Basic.Ack(delivery_tag=1)))
    batch.publishing()
    connection.frames.append(Method(1, Basic.Ack(delivery_tag=2)))
    batch.wait()
    assert not connection.frames


class AnsweringChannel(BlockingChannel):
    """A blocking channel whose broker acks each publish at once, read while basic_publish still runs (as pika
    reads whatever has arrived when it writes)."""

    def __init__(self, connection: ScriptedConnection) -> None:
        super().__init__(connection)
        self.connection, self.tags = connection, 0

    def basic_publish(self, **_message):
        self.tags += 1
        self.connection.on_confirm(Method(1, Basic.Ack(delivery_tag=self.tags)))


def test_the_publisher_counts_each_message_before_its_confirm_can_arrive(monkeypatch):
    monkeypatch.setattr(confirms, "CONFIRM_TIMEOUT_SECONDS", 0.05)
    connection = ScriptedConnection()
    channel = AnsweringChannel(connection)
    publisher = ConfirmingPublisher("amqp://guest:guest@127.0.0.1/unused", topology)
    publisher._channel, publisher._confirms = channel, BatchConfirms(connection, channel)  # type: ignore[assignment]
    event = contracts.task_deleted({"id": 7, "title": "Report", "assigned_user": None}, contracts.Actor(1, "admin"))
    publisher.publish_batch([("task.deleted", event)] * 3)
    publisher.append_to_feed([event] * 2)
    assert channel.tags == 5
