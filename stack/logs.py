"""Follow the profile's log files and print each new line prefixed with its process name."""
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

COLOURS = ("36", "32", "33", "35", "34", "31", "96", "92")


def follow(log_dir: Path, stop: threading.Event) -> None:
    """Print lines appended to log_dir/*.log until stop is set (rotation-aware).

    Files present at the start are followed from their end; later ones from their start.
    """
    files: dict[Path, tuple[TextIO, int]] = {}  # path -> (file, inode)
    first_scan = True
    while not stop.is_set():
        for path in sorted(log_dir.glob("*.log")):
            _reopen_if_rotated(files, path, from_start=not first_scan)
        first_scan = False
        for index, (path, (handle, _)) in enumerate(files.items()):
            for line in _complete_lines(handle):
                _print(path.stem, line, index)
        stop.wait(0.2)


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "".join(path.read_text(errors="replace").splitlines(True)[-lines:])


def _complete_lines(handle: TextIO) -> Iterator[str]:
    """New whole lines; a half-written last line is left for the next poll."""
    while True:
        position = handle.tell()
        line = handle.readline()
        if not line.endswith("\n"):
            handle.seek(position)
            return
        yield line


def _reopen_if_rotated(files: dict[Path, tuple[TextIO, int]], path: Path, from_start: bool) -> None:
    try:
        inode = path.stat().st_ino
    except FileNotFoundError:
        return
    known = files.get(path)
    if known and known[1] == inode:
        return
    if known:
        known[0].close()
    handle = path.open(errors="replace")
    if known is None and not from_start:
        handle.seek(0, 2)
    files[path] = (handle, inode)


def _print(name: str, line: str, index: int) -> None:
    prefix = f"{name:<14}|"
    if sys.stdout.isatty():
        prefix = f"\033[{COLOURS[index % len(COLOURS)]}m{prefix}\033[0m"
    sys.stdout.write(f"{prefix} {line}")
    sys.stdout.flush()


def follow_forever(log_dir: Path) -> None:
    """`make logs`: follow until Ctrl-C."""
    stop = threading.Event()
    try:
        follow(log_dir, stop)
    except KeyboardInterrupt:
        pass
