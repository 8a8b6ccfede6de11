"""Render the gateway's nginx.conf (local or compose) and supervisord.conf for one profile."""
import ipaddress
import os
import re
import shutil
import sys
from pathlib import Path

from .config import BIN_DIR, REPO, Profile, load_profile, process_env

NGINX_TEMPLATE = REPO / "gateway" / "nginx.conf.template"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
NGINX_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
# supervisord raises its own RLIMIT_NOFILE to this and children inherit it (WebSockets).
MIN_FDS = 16384
# The template's placeholder for each proxied service, and the process it names.
BACKENDS = {"USERS_BACKEND": "users_svc", "TASKS_BACKEND": "tasks_svc",
            "NOTIFY_BACKEND": "notify_svc", "WS_BACKEND": "ws_relay"}
UPSTREAM_GROUP = """\
    upstream {name} {{
        server {address};
        keepalive 32;
        keepalive_requests 100000;
    }}"""
DOCKER_DNS = "127.0.0.11"  # the resolver Docker gives every container on a user network
COMPOSE_STATE_DIR = "/var/cache/nginx/taskwire"  # writable by the gateway image's nginx user
WEB_ROOT = REPO / "web"  # the web console's files, served by the gateway at /
COMPOSE_WEB_ROOT = "/usr/share/nginx/taskwire-web"  # where gateway/Dockerfile copies web/
API_DOCS_ROOT = REPO / "gateway" / "api-docs"  # the Swagger UI page and its initializer, at /api/docs/
COMPOSE_API_DOCS_ROOT = "/usr/share/nginx/taskwire-api-docs"  # where gateway/Dockerfile copies them
# Where gateway/Dockerfile copies swagger-ui's files out of the pinned swagger-ui-bundle wheel.
COMPOSE_SWAGGER_UI_ROOT = "/usr/share/nginx/swagger-ui"


# Who may read /metrics/<service> through the gateway (METRICS_ALLOWED_ADDRESSES, docs/metrics.md).
METRICS_ALLOWED_DEFAULT = "127.0.0.1,::1"


def metrics_allow(addresses: str) -> str:
    """nginx's access rules for /metrics/<service>: the addresses or CIDR ranges listed (comma-separated), no one else.

    Each is parsed as an address, so nothing but an address reaches the config."""
    rules = []
    for item in filter(None, (part.strip() for part in addresses.split(","))):
        network = ipaddress.ip_network(item, strict=False)
        rules.append(f"allow {network.network_address if network.num_addresses == 1 else network};")
    return " ".join([*rules, "deny all;"])


def render_template(text: str, values: dict[str, str]) -> str:
    """Replace ${NAME} placeholders; nginx's own $variables are left alone."""
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for ${{{name}}} in the gateway template")
        return str(values[name])
    return PLACEHOLDER.sub(substitute, text)


def swagger_ui_root() -> Path:
    """swagger-ui's dist directory inside the installed swagger-ui-bundle package (the venv's)."""
    from swagger_ui_bundle import swagger_ui_path  # imported here: the compose render stage lacks it

    return Path(str(swagger_ui_path))


def nginx_values(profile: Profile) -> dict[str, str]:
    state = profile.state_dir / "nginx"
    groups = [UPSTREAM_GROUP.format(name=name, address=f"127.0.0.1:{profile.process(name).port}")
              for name in BACKENDS.values()]
    return {
        "STATE_DIR": str(state),
        "ACCESS_LOG": str(profile.log_dir / "nginx-access.log"),
        "GATEWAY_LISTEN": f"127.0.0.1:{profile.gateway_port}",
        "GATEWAY_SOURCE_ADDRESS": profile.gateway_source_address,
        "WEB_ROOT": str(WEB_ROOT),
        "API_DOCS_ROOT": str(API_DOCS_ROOT),
        "DOCS_ROOT": str(REPO / "docs"),  # docs/asyncapi.json, at /api/asyncapi.json
        "SWAGGER_UI_ROOT": str(swagger_ui_root()),
        "UPSTREAMS": "\n".join(groups),
        "METRICS_ALLOW": metrics_allow(os.environ.get("METRICS_ALLOWED_ADDRESSES", METRICS_ALLOWED_DEFAULT)),
        **BACKENDS,  # locally each placeholder names its upstream group
    }


def compose_nginx_values(profile: Profile, state_dir: str = COMPOSE_STATE_DIR) -> dict[str, str]:
    """The gateway container's values: services by their compose names and the profile's ports."""
    return {
        "STATE_DIR": state_dir,
        "ACCESS_LOG": "/dev/stdout",
        "GATEWAY_LISTEN": str(profile.gateway_port),
        # The container's own address on the compose network; TRUSTED_PROXIES names it (docker-compose.yml).
        "GATEWAY_SOURCE_ADDRESS": "off",
        "WEB_ROOT": COMPOSE_WEB_ROOT,
        "API_DOCS_ROOT": COMPOSE_API_DOCS_ROOT,
        "DOCS_ROOT": "/usr/share/nginx/taskwire-docs",  # where gateway/Dockerfile copies docs/asyncapi.json
        "SWAGGER_UI_ROOT": COMPOSE_SWAGGER_UI_ROOT,
        "UPSTREAMS": f"    resolver {DOCKER_DNS} valid=10s ipv6=off;",
        "METRICS_ALLOW": metrics_allow(os.environ.get("METRICS_ALLOWED_ADDRESSES", METRICS_ALLOWED_DEFAULT)),
        **{key: f"{name}:{profile.process(name).port}" for key, name in BACKENDS.items()},
    }


def compose_nginx_conf(state_dir: str = COMPOSE_STATE_DIR) -> str:
    """nginx.conf for the gateway container; the dev profile's ports are the services' ports."""
    values = compose_nginx_values(load_profile("dev"), state_dir)
    return render_template(NGINX_TEMPLATE.read_text(), values)


def write_nginx_conf(profile: Profile) -> Path:
    state = profile.state_dir / "nginx"
    for name in NGINX_TEMP_DIRS:
        (state / "tmp" / name).mkdir(parents=True, exist_ok=True)
    profile.log_dir.mkdir(parents=True, exist_ok=True)
    conf = state / "nginx.conf"
    conf.write_text(render_template(NGINX_TEMPLATE.read_text(), nginx_values(profile)))
    return conf


def nginx_command(profile: Profile, *extra: str) -> list[str]:
    state = profile.state_dir / "nginx"
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/usr/bin") or "nginx"
    # -e: the compiled-in error log under /var/log is not ours to write to.
    return [nginx, "-p", str(state), "-c", str(state / "nginx.conf"), "-e", "stderr", *extra]


def supervisor_paths(profile: Profile) -> dict[str, Path]:
    state = profile.state_dir
    return {
        "conf": state / "supervisord.conf",
        "socket": state / "supervisor.sock",
        "pid": state / "supervisord.pid",
        "log": profile.log_dir / "supervisord.log",
    }


def write_supervisord_conf(profile: Profile) -> Path:
    paths = supervisor_paths(profile)
    profile.log_dir.mkdir(parents=True, exist_ok=True)
    sections = [_supervisord_section(profile, paths)]
    sections += [_program(profile, p.name, _resolve(p.command), process_env(profile, p))
                 for p in profile.processes]
    nginx = " ".join(nginx_command(profile, "-g", "'daemon off;'"))
    sections.append(_program(profile, "gateway", nginx, {}))
    # One group, so supervisord stops every program at once instead of one after another.
    names = [p.name for p in profile.processes] + ["gateway"]
    sections.append(f"[group:taskwire]\nprograms={','.join(names)}\n")
    paths["conf"].write_text("\n".join(sections))
    return paths["conf"]


def _supervisord_section(profile: Profile, paths: dict[str, Path]) -> str:
    return f"""\
[supervisord]
logfile={paths['log']}
pidfile={paths['pid']}
minfds={MIN_FDS}
directory={REPO}
identifier=taskwire-{profile.name}

[unix_http_server]
file={paths['socket']}
chmod=0700

[supervisorctl]
serverurl=unix://{paths['socket']}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
"""


def _program(profile: Profile, name: str, command: str, env: dict[str, str]) -> str:
    lines = [
        f"[program:{name}]",
        f"command={command}",
        f"directory={REPO}",
        "autostart=true",
        "autorestart=true",
        "startsecs=2",
        "startretries=10",
        "stopsignal=TERM",
        "stopwaitsecs=15",
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={profile.log_dir / name}.log",
        "stdout_logfile_maxbytes=20MB",
        "stdout_logfile_backups=2",
    ]
    if env:
        lines.append("environment=" + ",".join(f"{k}={_quote(v)}" for k, v in env.items()))
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    # supervisord splits with a non-POSIX shlex (no escapes) and then %-interpolates.
    if '"' in value:
        raise ValueError(f"environment values may not contain double quotes: {value!r}")
    return '"' + value.replace("%", "%%") + '"'


def _resolve(command: str) -> str:
    """Pin the venv's python/gunicorn so supervisord's PATH does not matter."""
    program, _, rest = command.partition(" ")
    if program == "python":
        path = sys.executable
    else:
        path = shutil.which(program, path=str(BIN_DIR)) or shutil.which(program) or program
    return f"{path} {rest}".strip()


if __name__ == "__main__":
    # The gateway image: `python -m stack.render compose > nginx.conf`.
    if sys.argv[1:] != ["compose"]:
        sys.exit("usage: python -m stack.render compose")
    sys.stdout.write(compose_nginx_conf())
