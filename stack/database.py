"""Create the profile's databases when missing and run each service's migrations."""
import os
import subprocess
from urllib.parse import urlsplit, urlunsplit

from .config import REPO, Profile, process_env


def ensure_databases(profile: Profile) -> None:
    import psycopg2  # only the launcher's commands that touch PostgreSQL need it

    for proc in profile.processes:
        url = process_env(profile, proc).get("DATABASE_URL")
        if not url or not proc.database:
            continue
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        server = urlunsplit(parts._replace(path="/postgres"))
        conn = psycopg2.connect(server)
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    print(f"stack: creating database {name}", flush=True)
                    cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()


def migrate(profile: Profile) -> None:
    for proc in profile.processes:
        if not proc.migrations:
            continue
        if not proc.flask_app:
            raise ValueError(f"{proc.name} has migrations but no flask_app in processes.toml")
        if not (REPO / proc.migrations).is_dir():
            print(f"stack: {proc.migrations} does not exist yet; skipping", flush=True)
            continue
        print(f"stack: migrating {proc.name} ({proc.database})", flush=True)
        command = ["flask", "--app", proc.flask_app, "db", "upgrade", "--directory", proc.migrations]
        run_with_env(profile, proc.name, command)


def run_with_env(profile: Profile, process_name: str, command: list[str]) -> None:
    """Run a command with exactly the environment the named process gets."""
    env = process_env(profile, profile.process(process_name))
    subprocess.run(command, cwd=REPO, env={**os.environ, **env}, check=True)

