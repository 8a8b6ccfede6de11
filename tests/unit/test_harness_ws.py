"""The WebSocket clients' reading: close codes, messages and pings, and a watcher's sessions."""
import struct
import threading
import time
from datetime import datetime, timezone

import websocket

from harness.ws import Session, close_code, read_messages, ws_url

TEXT, PING, CLOSE = websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_CLOSE


class ScriptedSocket:
    """Hands out frames in order, then fails as a dropped connection does."""

    def __init__(self, *frames):
        self.frames = list(frames)

    def recv_data(self, control_frame=False):
        if not self.frames:
            raise websocket.WebSocketConnectionClosedException("gone")
        frame = self.frames.pop(0)
        if isinstance(frame, Exception):
            raise frame
        return frame


def test_urls_point_at_the_gateways_websocket_paths():
    assert ws_url("http://127.0.0.1:1") == "ws://127.0.0.1:1/ws/tasks/"
    assert ws_url("http://h:1", "/ws/notifications/", "T") == "ws://h:1/ws/notifications/?token=T"


def test_a_close_frame_gives_its_status_or_none():
    assert close_code(struct.pack("!H", 4401) + b"unauthorized") == 4401
    assert close_code(b"") is None and close_code(None) is None


def test_messages_and_pings_are_read_until_the_server_closes():
    messages, pings = [], []
    ws = ScriptedSocket((TEXT, b'{"type": "hello"}'), (PING, b""), (TEXT, b'{"type": "task_update"}'),
                        (CLOSE, struct.pack("!H", 1012)), (TEXT, b'{"type": "never read"}'))
    assert read_messages(ws, messages.append, on_ping=lambda: pings.append(1)) == 1012
    assert [m["type"] for m in messages] == ["hello", "task_update"] and pings == [1]


def test_a_close_without_status_is_1005_and_a_dropped_connection_none():
    assert read_messages(ScriptedSocket((CLOSE, b"")), print) == 1005
    assert read_messages(ScriptedSocket(), print) is None


def test_a_timeout_only_lets_a_stop_be_noticed():
    stopping = threading.Event()

    class StopsWhileQuiet(ScriptedSocket):
        def recv_data(self, control_frame=False):
            stopping.set()
            raise websocket.WebSocketTimeoutException("quiet")
    assert read_messages(StopsWhileQuiet(), print, stopping=stopping) is None


def test_a_session_files_task_events_by_id_and_notifications_whole():
    session = Session(opened=0)
    before = time.time()
    session.receive({"type": "task_update", "event_id": "e1", "task": {}, "occurred_at": "2026-12-05T01:00:00.250Z"})
    session.receive({"type": "notification", "notification": {"user": 2}})
    assert session.event_ids == ["e1"] and session.notifications == [{"user": 2}]
    [(occurred, arrived)] = session.arrivals
    assert occurred == datetime(2026, 12, 5, 1, 0, 0, 250000, tzinfo=timezone.utc).timestamp()
    assert before <= arrived <= time.time()


def test_a_session_keeps_the_last_cursor_and_counts_resyncs():
    session = Session(opened=0)
    session.receive({"type": "hello", "cursor": "1.a", "user": 2})
    session.receive({"type": "task_update", "event_id": "e1", "task": {}, "cursor": "2.b",
                     "occurred_at": "2026-12-05T01:00:00Z"})
    assert session.cursor == "2.b" and session.resyncs == 0
    session.receive({"type": "resync_required", "cursor": "9.c"})
    assert session.cursor == "9.c" and session.resyncs == 1 and session.event_ids == ["e1"]
