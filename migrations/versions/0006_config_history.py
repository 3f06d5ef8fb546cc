"""configuration history of items, maintenance plans and routing rules

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory_service.db.base

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Append-only: one row per changed field. Records created before this revision have no
    # `created` row; their history starts with their first change.
    op.create_table('config_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('old', sa.JSON(), nullable=True),
    sa.Column('new', sa.JSON(), nullable=True),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', inventory_service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_changes'))
    )
    with op.batch_alter_table('config_changes', schema=None) as batch_op:
        batch_op.create_index('ix_config_changes_entity_entity_id_id', ['entity', 'entity_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('config_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_config_changes_entity_entity_id_id')
    op.drop_table('config_changes')
