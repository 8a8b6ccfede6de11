"""Many WebSocket clients in one gevent process, each recording when its messages arrive."""
from __future__ import annotations

import time

import gevent
import websocket
from gevent.pool import Pool


class SocketPool:
    def __init__(self):
        self.sockets: list = []
        self.received: list[tuple[int, float, str]] = []  # (socket index, arrival time, raw message)
        self._readers: list = []

    def open(self, urls: list[str], concurrency: int = 200, log=print) -> None:
        """Open one socket per URL; raises if any fails."""
        pool = Pool(concurrency)
        # Not a browser: no Origin header (websocket-client would invent one from the URL).
        sockets = pool.map(lambda url: websocket.create_connection(url, timeout=60, suppress_origin=True), urls)
        for index, ws in enumerate(sockets, start=len(self.sockets)):
            ws.settimeout(None)
            self._readers.append(gevent.spawn(self._read, index, ws))
        self.sockets.extend(sockets)
        log(f"  {len(self.sockets)} sockets open")

    def _read(self, index: int, ws) -> None:
        while True:
            try:
                message = ws.recv()
            except (websocket.WebSocketException, OSError):
                return
            self.received.append((index, time.time(), message))

    def close(self) -> None:
        gevent.killall(self._readers, block=False)
        for ws in self.sockets:
            try:
                ws.close(timeout=0.1)
            except (websocket.WebSocketException, OSError):
                pass
        self.sockets, self._readers = [], []
