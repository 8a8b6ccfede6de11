"""tasks, user directory, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-26

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Trigram indexes serve q= (title/description search); pg_trgm is a trusted extension.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('directory_users',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_users'))
    )
    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('event_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('routing_key', sa.String(length=100), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_events_event_id'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_pending', ['id'], unique=False, postgresql_where=sa.text('published_at IS NULL'))

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('priority', sa.Enum('low', 'medium', 'high', name='task_priority'), nullable=False),
    sa.Column('status', sa.Enum('todo', 'in_progress', 'completed', name='task_status'), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('assigned_user', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_assigned_user_due_date', ['assigned_user', 'due_date', 'id'], unique=False)
        batch_op.create_index('ix_tasks_assigned_user_status_due_date', ['assigned_user', 'status', 'due_date', 'id'], unique=False)
        batch_op.create_index('ix_tasks_description_trgm', ['description'], unique=False, postgresql_using='gin', postgresql_ops={'description': 'gin_trgm_ops'})
        batch_op.create_index('ix_tasks_due_date', ['due_date', 'id'], unique=False)
        batch_op.create_index('ix_tasks_priority', ['priority', 'id'], unique=False)
        batch_op.create_index('ix_tasks_status_due_date', ['status', 'due_date', 'id'], unique=False)
        batch_op.create_index('ix_tasks_title_trgm', ['title'], unique=False, postgresql_using='gin', postgresql_ops={'title': 'gin_trgm_ops'})
        batch_op.create_index('ix_tasks_updated_at', ['updated_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_updated_at')
        batch_op.drop_index('ix_tasks_title_trgm', postgresql_using='gin', postgresql_ops={'title': 'gin_trgm_ops'})
        batch_op.drop_index('ix_tasks_status_due_date')
        batch_op.drop_index('ix_tasks_priority')
        batch_op.drop_index('ix_tasks_due_date')
        batch_op.drop_index('ix_tasks_description_trgm', postgresql_using='gin', postgresql_ops={'description': 'gin_trgm_ops'})
        batch_op.drop_index('ix_tasks_assigned_user_status_due_date')
        batch_op.drop_index('ix_tasks_assigned_user_due_date')

    op.drop_table('tasks')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_pending', postgresql_where=sa.text('published_at IS NULL'))

    op.drop_table('outbox_events')
    op.drop_table('directory_users')
    sa.Enum(name='task_priority').drop(op.get_bind())
    sa.Enum(name='task_status').drop(op.get_bind())
