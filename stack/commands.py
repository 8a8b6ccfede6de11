"""The launcher's commands: up, start, stop, status, migrate, run, logs."""
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from users_svc.signing_keys import KEY_SUFFIX, add_key

from . import cluster, database, health, logs, render
from .config import REPO, Profile, process_env, service_of

START_DEADLINE_SECONDS = 60
STOP_DEADLINE_SECONDS = 45
RABBITMQ_CONSOLE = "http://127.0.0.1:15672"


class StackError(Exception):
    """A failure the user can act on; printed without a traceback."""


def up(profile: Profile) -> int:
    _prepare(profile)
    print(f"stack: {profile.name} stack in the foreground on {profile.gateway_url}; Ctrl-C stops it")
    supervisord = subprocess.Popen(_supervisord_command(profile, "--nodaemon", "--silent"))
    stop_following = threading.Event()
    threading.Thread(target=logs.follow, args=(profile.log_dir, stop_following), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: supervisord.send_signal(signal.SIGTERM))
    try:
        return supervisord.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to supervisord too; make sure it shuts down even if not.
        print("\nstack: stopping every process", flush=True)
        supervisord.send_signal(signal.SIGTERM)
        return supervisord.wait(timeout=STOP_DEADLINE_SECONDS)
    finally:
        time.sleep(0.3)  # let the follower print the last lines of the shutdown
        stop_following.set()
        cluster.stop(profile)


def start(profile: Profile) -> int:
    if _supervisord_pid(profile):
        print(f"stack: {profile.name} stack already running; checking its health")
        _supervisorctl(profile, "start", "all", quiet=True)  # revive any stopped program
    else:
        _prepare(profile)
        subprocess.run(_supervisord_command(profile), check=True)
    failures = health.wait_until_healthy(profile, START_DEADLINE_SECONDS)
    if failures:
        raise StackError(_unhealthy_report(profile, failures))
    print(f"stack: {profile.name} stack is healthy\n"
          f"  gateway:          {profile.gateway_url}\n"
          f"  RabbitMQ console: {rabbitmq_console(profile)} (guest/guest, vhost {profile.amqp_vhost})\n"
          f"  logs:             {profile.log_dir}")
    return 0


def rabbitmq_console(profile: Profile) -> str:
    """The management console: the machine's RabbitMQ, or the first node of the profile's own cluster."""
    first = next(iter(cluster.nodes(profile)), None)
    return f"http://127.0.0.1:{first.management_port}" if first else RABBITMQ_CONSOLE


def stop(profile: Profile) -> int:
    pid = _supervisord_pid(profile)
    if not pid:
        print(f"stack: {profile.name} stack is not running")
        cluster.stop(profile)
        return 0
    os.kill(pid, signal.SIGTERM)  # supervisord stops every program, then exits
    deadline = time.monotonic() + STOP_DEADLINE_SECONDS
    while _alive(pid):
        if time.monotonic() > deadline:
            raise StackError(f"supervisord (pid {pid}) did not stop within {STOP_DEADLINE_SECONDS} s")
        time.sleep(0.2)
    cluster.stop(profile)
    print(f"stack: {profile.name} stack stopped")
    return 0


def status(profile: Profile) -> int:
    if not _supervisord_pid(profile):
        print(f"stack: {profile.name} stack is not running")
        return 3
    return _supervisorctl(profile, "status")


def migrate(profile: Profile) -> int:
    ensure_signing_key(profile)
    database.ensure_databases(profile)
    database.migrate(profile)
    return 0


def run(profile: Profile, process_name: str, command: list[str]) -> int:
    """Run a one-off command (e.g. a Flask CLI) with a process's environment."""
    if not command:
        raise StackError("nothing to run: give a command after --")
    ensure_signing_key(profile)  # users_svc's app (and so its CLI) does not start without one
    env = {**os.environ, **process_env(profile, profile.process(process_name))}
    return subprocess.run(command, cwd=REPO, env=env).returncode


def follow_logs(profile: Profile) -> int:
    print(f"stack: following {profile.log_dir}/*.log (Ctrl-C to stop)", flush=True)
    logs.follow_forever(profile.log_dir)
    return 0


def ensure_signing_key(profile: Profile) -> None:
    """A first token signing key for the profile's users_svc, if it has none (`make rotate-signing-key` adds more)."""
    directory = profile.signing_key_dir
    if not directory.is_dir() or not any(directory.glob("*" + KEY_SUFFIX)):
        key = add_key(directory)
        print(f"stack: made a token signing key ({key.kid}) in {directory}")


def _prepare(profile: Profile) -> None:
    """Everything before supervisord runs: free ports, databases, migrations, config."""
    if _supervisord_pid(profile):
        raise StackError(f"the {profile.name} stack is already running (stop it first)")
    busy = health.busy_ports(profile)
    if busy:
        raise StackError("cannot start: " + "; ".join(busy))
    try:
        cluster.start(profile)  # a profile with RabbitMQ nodes of its own
    except cluster.ClusterError as error:
        raise StackError(str(error)) from None
    _set_aside_old_logs(profile)
    _empty_metrics_dirs(profile)
    ensure_signing_key(profile)
    database.ensure_databases(profile)
    database.migrate(profile)
    render.write_nginx_conf(profile)
    checked = subprocess.run(render.nginx_command(profile, "-t", "-q"), capture_output=True, text=True)
    if checked.returncode:
        raise StackError(f"the rendered nginx config is invalid:\n{checked.stderr}")
    render.write_supervisord_conf(profile)


def _empty_metrics_dirs(profile: Profile) -> None:
    """The last run's metric files would be summed into this run's (PROMETHEUS_MULTIPROC_DIR must start empty)."""
    shutil.rmtree(profile.metrics_dir, ignore_errors=True)
    for service in {service_of(proc) for proc in profile.processes}:
        (profile.metrics_dir / service).mkdir(parents=True)


def _set_aside_old_logs(profile: Profile) -> None:
    """Keep the previous run's logs as *.log.prev so a failure report shows only this run."""
    profile.log_dir.mkdir(parents=True, exist_ok=True)
    for log in profile.log_dir.glob("*.log"):
        log.replace(log.with_name(log.name + ".prev"))


def supervisorctl(profile: Profile, *args: str) -> str:
    """What supervisorctl prints for the profile's supervisord (tests and fault runs signal programs)."""
    conf = render.supervisor_paths(profile)["conf"]
    command = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True).stdout


def _supervisorctl(profile: Profile, *args: str, quiet: bool = False) -> int:
    conf = render.supervisor_paths(profile)["conf"]
    command = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf), *args]
    return subprocess.run(command, capture_output=quiet).returncode


def _supervisord_command(profile: Profile, *extra: str) -> list[str]:
    conf = render.supervisor_paths(profile)["conf"]
    return [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf), *extra]


def _supervisord_pid(profile: Profile) -> int | None:
    """The pid of this profile's running supervisord, or None (stale pid files are removed)."""
    pid_file = render.supervisor_paths(profile)["pid"]
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if _alive(pid) and str(render.supervisor_paths(profile)["conf"]) in _cmdline(pid):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _unhealthy_report(profile: Profile, failures: dict[str, str]) -> str:
    parts = [f"{profile.name} stack not healthy after {START_DEADLINE_SECONDS} s:"]
    for name, problem in failures.items():
        parts.append(f"\n--- {name}: {problem}\n--- last lines of {profile.log_dir / name}.log:")
        parts.append(logs.tail(profile.log_dir / f"{name}.log"))
    parts.append(f"\n--- last lines of {profile.log_dir}/gateway.log:")
    parts.append(logs.tail(profile.log_dir / "gateway.log", 10))
    parts.append("\nThe stack is left running for inspection; stop it with: "
                 f"python -m stack stop --profile {profile.name}")
    return "\n".join(parts)
