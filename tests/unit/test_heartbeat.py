"""The heartbeat file of workers and outbox publishers, and the check a container health probe runs."""
import os
import time

from taskwire_common.heartbeat import MIN_INTERVAL, Heartbeat, main


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_beat_touches_the_file_at_most_once_per_interval(tmp_path):
    path, clock = tmp_path / "beat", Clock()
    heartbeat = Heartbeat(str(path), clock)
    heartbeat.beat()
    assert path.exists()
    os.utime(path, (0, 0))
    heartbeat.beat()  # within the interval: not touched again
    assert path.stat().st_mtime == 0
    clock.now += MIN_INTERVAL
    heartbeat.beat()
    assert time.time() - path.stat().st_mtime < 5


def test_without_a_file_a_beat_does_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv("HEARTBEAT_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    Heartbeat.from_environment().beat()
    assert list(tmp_path.iterdir()) == []


def test_the_check_is_healthy_only_while_the_file_is_fresh(tmp_path, capsys):
    path = tmp_path / "beat"
    assert main([str(path)]) == 1 and "no heartbeat yet" in capsys.readouterr().out
    path.touch()
    assert main([str(path), "--max-age", "30"]) == 0
    old = time.time() - 31
    os.utime(path, (old, old))
    assert main([str(path), "--max-age", "30"]) == 1 and "31 s ago" in capsys.readouterr().out
