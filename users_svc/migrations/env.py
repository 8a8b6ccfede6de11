"""Alembic environment of this service's migrations: the one all Taskwire services share."""
from taskwire_common.alembic_env import run_migrations

run_migrations()
