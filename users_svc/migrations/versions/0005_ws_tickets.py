"""ws tickets: single-use tickets for opening a WebSocket without a token in the URL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ws_tickets',
    sa.Column('ticket_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('token_issued_at', sa.BigInteger(), nullable=False),
    sa.Column('token_expires_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_hash')
    )
    with op.batch_alter_table('ws_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_tickets_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ws_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_tickets_expires_at'))
    op.drop_table('ws_tickets')
