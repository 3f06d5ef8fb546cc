"""scanner configuration problems: config_error on stations (location optional), per-instance problem list

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory_service.db.base

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scanner_config_problems',
    sa.Column('instance', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('scanner_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_at', inventory_service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scanner_id'], ['scanners.id'],
                            name=op.f('fk_scanner_config_problems_scanner_id_scanners')),
    sa.PrimaryKeyConstraint('instance', 'key', name=op.f('pk_scanner_config_problems'))
    )
    # A station first seen with an unusable definition is listed (with its config_error) before it
    # has a location; existing rows all have one and keep it.
    with op.batch_alter_table('scanners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('config_error', sa.Text(), nullable=True))
        batch_op.alter_column('location_id', existing_type=sa.INTEGER(), nullable=True)


def downgrade() -> None:
    # Stations that never had a location (misconfigured since first seen, so never read and without
    # scans) cannot exist in the older schema.
    op.drop_table('scanner_config_problems')
    op.execute("DELETE FROM scanners WHERE location_id IS NULL")
    with op.batch_alter_table('scanners', schema=None) as batch_op:
        batch_op.alter_column('location_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('config_error')
