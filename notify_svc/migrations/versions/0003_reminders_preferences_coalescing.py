"""reminders (task projection, sent reminders), preferences (muted kinds), coalescing (kind, count, changes)

Notifications made before this revision get their kind from their event type and words.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 15:32:41.173242

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The words notify_svc.rules wrote for each kind before kinds were stored.
KINDS_OF_EARLIER_NOTIFICATIONS = """
UPDATE notifications SET kind = CASE
    WHEN event_type = 'task.created' THEN 'assigned'
    WHEN event_type = 'task.deleted' THEN 'deleted'
    WHEN message LIKE '% is no longer assigned to you (%' THEN 'unassigned'
    WHEN message LIKE '% assigned you %' THEN 'assigned'
    ELSE 'updated' END
"""


def upgrade():
    op.create_table('muted_kinds',
    sa.Column('user', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('user', 'kind', name=op.f('pk_muted_kinds'))
    )
    op.create_table('sent_reminders',
    sa.Column('task_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('user', sa.Integer(), nullable=False),
    sa.Column('muted', sa.Boolean(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('task_id', 'kind', 'due_date', name=op.f('pk_sent_reminders'))
    )
    op.create_table('task_projections',
    sa.Column('task_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('priority', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('assignee', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_task_projections'))
    )
    with op.batch_alter_table('task_projections', schema=None) as batch_op:
        batch_op.create_index('ix_task_projections_open_due', ['due_date'], unique=False, postgresql_where=sa.text("NOT deleted AND status <> 'completed' AND assignee IS NOT NULL"))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='updated', nullable=False))
        batch_op.add_column(sa.Column('count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('change_notes', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
        batch_op.add_column(sa.Column('last_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_notifications_foldable', ['user', 'task_id'], unique=False, postgresql_where=sa.text("NOT is_read AND kind = 'updated'"))

    op.execute(KINDS_OF_EARLIER_NOTIFICATIONS)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_foldable', postgresql_where=sa.text("NOT is_read AND kind = 'updated'"))
        batch_op.drop_column('last_changed_at')
        batch_op.drop_column('change_notes')
        batch_op.drop_column('actor_id')
        batch_op.drop_column('count')
        batch_op.drop_column('kind')

    with op.batch_alter_table('task_projections', schema=None) as batch_op:
        batch_op.drop_index('ix_task_projections_open_due', postgresql_where=sa.text("NOT deleted AND status <> 'completed' AND assignee IS NOT NULL"))

    op.drop_table('task_projections')
    op.drop_table('sent_reminders')
    op.drop_table('muted_kinds')
