"""Each service's committed migrations describe exactly its models (nothing left to autogenerate)."""
import os
import subprocess
import sys

import pytest

from tests.integration.support import NOTIFY_DATABASE_URL, TASKS_DATABASE_URL, USERS_DATABASE_URL


@pytest.mark.parametrize("app,database_url", [
    ("users_svc.wsgi:app", USERS_DATABASE_URL),
    ("tasks_svc.wsgi:app", TASKS_DATABASE_URL),
    ("notify_svc.wsgi:app", NOTIFY_DATABASE_URL),
])
def test_models_and_migrations_agree(it_env, app, database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    flask = [sys.executable, "-m", "flask", "--app", app, "db"]
    upgraded = subprocess.run(flask + ["upgrade"], env=env, capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = subprocess.run(flask + ["check"], env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr + checked.stdout
