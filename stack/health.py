"""Port checks before start and health checks through the gateway after."""
import socket
import time
import urllib.error
import urllib.request

from .config import Profile


def busy_ports(profile: Profile) -> list[str]:
    """Ports of this profile already bound by something else, named by their owner."""
    wanted = [("gateway", profile.gateway_port)]
    wanted += [(p.name, p.port) for p in profile.processes if p.port]
    busy = []
    for name, port in wanted:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"port {port} (for {name}) is already in use")
    return busy


def unhealthy(profile: Profile) -> dict[str, str]:
    """Process name -> why its health check through the gateway failed (empty: all healthy)."""
    failures = {}
    for proc in profile.processes:
        if proc.health:
            problem = _check(profile.gateway_url + proc.health)
            if problem:
                failures[proc.name] = problem
    return failures


def wait_until_healthy(profile: Profile, deadline_seconds: float) -> dict[str, str]:
    deadline = time.monotonic() + deadline_seconds
    while True:
        failures = unhealthy(profile)
        if not failures or time.monotonic() > deadline:
            return failures
        time.sleep(0.5)


def _check(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return None if response.status == 200 else f"{url} answered {response.status}"
    except urllib.error.HTTPError as e:
        return f"{url} answered {e.code}"
    except OSError as e:
        return f"{url} failed: {e}"
