"""What the soak reads in log files: the lines written since it started, errors, the relay's word on a socket."""
from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

# The Taskwire format: "{levelname} {asctime} {module} {message}", asctime like 2026-11-26 17:20:52,821 (local time).
LINE = re.compile(r"^(?P<level>[A-Z]+) (?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<module>\S+) (?P<message>.*)$")
NGINX_PROBLEM = re.compile(r"\[(error|crit|alert|emerg)\]")


class LogTail:
    """The text appended to a set of files since this object was made."""

    def __init__(self, paths: list[Path]):
        self.offsets = {path: path.stat().st_size if path.exists() else 0 for path in paths}

    def read_new(self) -> dict[str, str]:
        """{file name: text written since the last call (or since the start)}."""
        texts = {}
        for path, offset in self.offsets.items():
            if not path.exists():
                continue
            with path.open("rb") as f:
                f.seek(offset)
                data = f.read()
            self.offsets[path] = offset + len(data)
            texts[path.name] = data.decode(errors="replace")
        return texts


def epoch(asctime: str) -> float:
    return time.mktime(datetime.strptime(asctime, "%Y-%m-%d %H:%M:%S,%f").timetuple()) + int(asctime[-3:]) / 1000


def error_lines(name: str, text: str) -> list[str]:
    """Lines of one log at ERROR or worse (and tracebacks); for nginx's error log, [error] or worse."""
    found = []
    for line in text.splitlines():
        match = LINE.match(line)
        if match and match["level"] in ("ERROR", "CRITICAL"):
            found.append(line)
        elif line.startswith("Traceback"):
            found.append(line)
        elif name.startswith("gateway") and NGINX_PROBLEM.search(line):
            found.append(line)
    return found


def socket_closes(text: str, user_id: int) -> list[dict]:
    """The relay's lines about one user's sockets being dropped or closed, with their times and codes."""
    events = []
    for line in text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        message = match["message"]
        if message == f"dropping the socket of user {user_id}: it stopped reading":
            events.append({"at": epoch(match["date"]), "what": "send queue full", "line": line})
        elif closed := re.fullmatch(rf"WebSocket of user {user_id} closed \((\d+|by the client)\)", message):
            code = closed[1]
            events.append({"at": epoch(match["date"]), "what": "closed",
                           "code": int(code) if code.isdigit() else None, "line": line})
    return events
