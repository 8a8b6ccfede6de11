"""outbox rows wake the relay through a trigger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

"""
from alembic import op

from taskwire_common.outbox import CREATE_NOTIFY_TRIGGER, DROP_NOTIFY_TRIGGER

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(CREATE_NOTIFY_TRIGGER)


def downgrade():
    op.execute(DROP_NOTIFY_TRIGGER)
