"""The fan-out frames a message once and writes it to waiting sockets itself, never waiting for a slow client."""
import time

import gevent
from wsproto.events import TextMessage

from taskwire_common.contracts import Actor, task_created
from ws_relay.hub import TRY_AGAIN_LATER, Connection
from ws_relay.wire import text_frame

from .test_ws_routing import connect, dispatch, principal, read_frame, ready_hub
from .test_ws_socket_loop import relay_socket, run_loop  # noqa: F401 (the fixture)


def test_a_text_frame_is_the_servers_unmasked_frame_of_the_utf8_text():
    assert text_frame('{"a":"é"}') == b"\x81\x0a" + '{"a":"é"}'.encode()
    long = "x" * 300
    assert text_frame(long) == b"\x81\x7e\x01\x2c" + long.encode()  # 126: a 16-bit length follows


def test_an_event_is_framed_once_and_the_same_bytes_reach_every_socket():
    hub = ready_hub()
    sockets = [connect(hub, 1, "admin"), connect(hub, 1, "admin"), connect(hub, 2)]
    event = task_created({"id": 5, "title": "x", "assigned_user": 2}, Actor(1, "admin"))
    assert dispatch(hub, event) == 3
    frames = [connection.pending[0] for connection in sockets]
    assert all(frame is frames[0] for frame in frames)  # one object: framed once, not once per socket
    message = hub.history.after(0, 1)[0].frame
    assert frames[0] is message and read_frame(message)["event_id"] == event["id"]


class Kernel:
    """A socket's non-waiting write as the fan-out sees it: takes up to `room` bytes, records what it took."""

    def __init__(self, room):
        self.room, self.taken = room, b""

    def write_now(self, frame):
        took = frame[:self.room]
        self.room -= len(took)
        self.taken += took
        return len(took)


def waiting(hub, kernel, size=10):
    """A live socket whose greenlet waits, so that the fan-out writes for it."""
    connection = connect(hub, 1, "admin", size=size)
    connection.write_now = kernel.write_now
    return connection


def test_the_fan_out_writes_a_waiting_sockets_frame_at_once_and_queues_nothing():
    hub = ready_hub()
    kernel = Kernel(room=10_000)
    connection = waiting(hub, kernel)
    dispatch(hub, task_created({"id": 5, "title": "x"}, Actor(1, "admin")))
    assert connection.pending == [] and not connection.wakeup.is_set()
    assert read_frame(kernel.taken)["type"] == "task_update"


def test_what_the_kernel_does_not_take_waits_in_order_for_the_sockets_greenlet():
    hub = ready_hub()
    kernel = Kernel(room=20)
    connection = waiting(hub, kernel)
    dispatch(hub, task_created({"id": 5, "title": "first"}, Actor(1, "admin")))
    kernel.room = 10_000  # room again, but the rest of the first frame must go first: nothing jumps it
    dispatch(hub, task_created({"id": 6, "title": "second"}, Actor(1, "admin")))
    first, second = hub.history.after(0, 2)
    assert len(kernel.taken) == 20 and connection.pending == [first.frame[20:], second.frame]
    assert connection.wakeup.is_set()


def test_a_socket_whose_client_stopped_reading_is_closed_without_the_fan_out_waiting():
    hub = ready_hub()
    stuck = waiting(hub, Kernel(room=0), size=3)
    started = time.monotonic()
    for number in range(10):
        dispatch(hub, task_created({"id": number, "title": "x"}, Actor(1, "admin")))
    assert time.monotonic() - started < 1.0
    assert stuck.close_code == TRY_AGAIN_LATER and len(stuck.pending) == 3


def test_a_waiting_socket_gets_fanned_out_frames_through_the_kernel_and_the_rest_from_its_greenlet(relay_socket):  # noqa: F811
    ws, client = relay_socket
    connection, loop = run_loop(ws, ping_interval=60)
    deadline = time.monotonic() + 3
    while connection.write_now is None and time.monotonic() < deadline:
        gevent.sleep(0.01)  # the loop starts, then waits
    assert connection.write_now is not None
    small = text_frame('{"type":"task_update","n":1}')
    assert connection.offer(small)  # written by the caller: the greenlet was not needed
    big = text_frame('{"type":"task_update","pad":"' + "x" * 4_000_000 + '"}')  # more than the kernel takes at once
    assert not connection.offer(big)
    assert connection.pending and len(connection.pending[0]) < len(big)
    assert texts_received(client, 2) == [small[2:].decode(), big[10:].decode()]  # 2 and 10 header bytes
    assert connection.pending == []
    loop.kill()


def test_a_socket_without_a_waiting_greenlet_queues_every_frame():
    connection = Connection(principal(1, "admin"), True, 10)
    assert not connection.offer(text_frame("{}"))
    assert connection.pending == [text_frame("{}")]


def texts_received(client, count, timeout=10.0):
    """The first `count` whole text messages the client receives (wsproto may hand a long one over in parts)."""
    texts, part = [], ""
    deadline = time.monotonic() + timeout
    while len(texts) < count:
        with gevent.Timeout(max(0.0, deadline - time.monotonic()), AssertionError(f"{len(texts)} of {count}")):
            client.ws.receive_data(client.sock.recv(1 << 20) or None)
        for event in client.ws.events():
            if isinstance(event, TextMessage):
                part += event.data
                if event.message_finished:
                    texts.append(part)
                    part = ""
    return texts
