"""The Alembic environment every service's migrations run in (their env.py calls `run_migrations`)."""
from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from flask import current_app

logger = logging.getLogger("alembic.env")


def run_migrations() -> None:
    config = context.config
    # Keep the service's own loggers: fileConfig would otherwise disable every logger made so far.
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    migrate = current_app.extensions["migrate"]
    engine = migrate.db.engine
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=migrate.db.metadata,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def skip_empty_revisions(_context: MigrationContext, _revision: object, directives: list[MigrationScript]) -> None:
        """`flask db migrate` with no model change writes no empty migration."""
        if not getattr(config.cmd_opts, "autogenerate", False):
            return
        upgrade_ops = directives[0].upgrade_ops  # None only for a script of several upgrade_ops lists
        if upgrade_ops is not None and upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    configure_args = {"process_revision_directives": skip_empty_revisions, **migrate.configure_args}
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=migrate.db.metadata, **configure_args)
        with context.begin_transaction():
            context.run_migrations()
