"""reorder figures rollup on par levels; covering index for 30-day usage

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows start without figures (figures_on NULL): readers compute them until the
    # hourly reorder check stores them.
    with op.batch_alter_table('par_levels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('usable_quantity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('on_hold_quantity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('figures_on', sa.Date(), nullable=True))
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index('ix_movements_usage', ['item_id', 'location_id', 'kind', 'occurred_at', 'quantity'],
                              unique=False)
        batch_op.drop_index('ix_movements_item_id_location_id_kind_occurred_at')


def downgrade() -> None:
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index('ix_movements_item_id_location_id_kind_occurred_at',
                              ['item_id', 'location_id', 'kind', 'occurred_at'], unique=False)
        batch_op.drop_index('ix_movements_usage')
    with op.batch_alter_table('par_levels', schema=None) as batch_op:
        batch_op.drop_column('figures_on')
        batch_op.drop_column('on_hold_quantity')
        batch_op.drop_column('usable_quantity')
