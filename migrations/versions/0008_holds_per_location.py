"""excursion holds per lot and location, every hold decision and every acknowledgement kept

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 23:05:48

A hold used to mark the whole lot `hold`, which also locked stock of that lot elsewhere that was never
exposed. Now a hold belongs to the lot's stock at a location (`lot_holds.location_id`, mirrored on
`balances.held`), and lots keep only lot-wide statuses. Existing holds move to their unit's location;
a lot marked `hold` becomes `available` again, its stock in the exposed unit held while a hold there
awaits a final decision. Decisions and acknowledgements already recorded become the first rows of
their append-only histories.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory_service.db.base

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "(h.disposition IS NULL OR h.disposition = 'pending_manufacturer')"


def upgrade() -> None:
    op.create_table('acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=100), nullable=False),
    sa.Column('acknowledged_at', inventory_service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], name=op.f('fk_acknowledgements_alarm_id_alarms')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_acknowledgements_alert_id_alerts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgements'))
    )
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgements_alarm_id'), ['alarm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acknowledgements_alert_id'), ['alert_id'], unique=False)

    op.create_table('hold_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=False),
    sa.Column('disposition', sa.String(length=24), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', inventory_service.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('manufacturer_reference', sa.String(length=200), nullable=True),
    sa.Column('exposure_min', sa.Float(), nullable=False),
    sa.Column('excursion_ongoing', sa.Boolean(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('movement_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['hold_id'], ['lot_holds.id'], name=op.f('fk_hold_decisions_hold_id_lot_holds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hold_decisions'))
    )
    with op.batch_alter_table('hold_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hold_decisions_hold_id'), ['hold_id'], unique=False)

    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('lot_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_id', sa.Integer(), nullable=True))
    op.execute("UPDATE lot_holds SET location_id = (SELECT location_id FROM storage_units "
               "WHERE storage_units.id = lot_holds.storage_unit_id)")
    with op.batch_alter_table('lot_holds', schema=None) as batch_op:
        batch_op.alter_column('location_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f('ix_lot_holds_lot_id'))
        batch_op.drop_constraint(batch_op.f('uq_lot_holds_excursion_id_lot_id'), type_='unique')
        batch_op.create_index('ix_lot_holds_lot_id_location_id', ['lot_id', 'location_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_lot_holds_excursion_id_lot_id_location_id'),
                                          ['excursion_id', 'lot_id', 'location_id'])
        batch_op.create_foreign_key(batch_op.f('fk_lot_holds_location_id_locations'), 'locations',
                                    ['location_id'], ['id'])

    # Holds: the stock where a hold awaits a final decision is held; lots leave the lot-wide `hold`.
    op.execute("UPDATE balances SET held = true WHERE EXISTS (SELECT 1 FROM lot_holds AS h WHERE "
               f"h.lot_id = balances.lot_id AND h.location_id = balances.location_id AND {OPEN})")
    op.execute("UPDATE lots SET status = 'available', status_reason = NULL WHERE status = 'hold'")
    # Par levels recompute their figures (usable and on hold moved) on the next read or hourly check.
    op.execute("UPDATE par_levels SET figures_on = NULL")
    # Decisions already taken start the decision history (their exposure then is not known: the
    # hold's stored exposure stands in).
    op.execute("INSERT INTO hold_decisions (hold_id, disposition, decided_by, decided_at, notes, exposure_min, "
               "excursion_ongoing, quantity, movement_ids) SELECT id, disposition, decided_by, decided_at, notes, "
               "exposure_min, false, quantity, '[]' FROM lot_holds "
               "WHERE disposition IS NOT NULL AND decided_by IS NOT NULL AND decided_at IS NOT NULL")
    # Acknowledgements already recorded start their histories.
    op.execute("INSERT INTO acknowledgements (alarm_id, alert_id, acknowledged_by, acknowledged_at, reason, source) "
               "SELECT id, NULL, acknowledged_by, acknowledged_at, COALESCE(ack_reason, ''), 'api' FROM alarms "
               "WHERE acknowledged_at IS NOT NULL AND acknowledged_by IS NOT NULL")
    op.execute("INSERT INTO acknowledgements (alarm_id, alert_id, acknowledged_by, acknowledged_at, reason, source) "
               "SELECT NULL, id, acknowledged_by, acknowledged_at, COALESCE(ack_reason, ''), 'api' FROM alerts "
               "WHERE acknowledged_at IS NOT NULL AND acknowledged_by IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('hold_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hold_decisions_hold_id'))
    op.drop_table('hold_decisions')
    op.execute("UPDATE lots SET status = 'hold' WHERE status = 'available' AND EXISTS "
               "(SELECT 1 FROM balances AS b WHERE b.lot_id = lots.id AND b.held)")
    op.execute("DELETE FROM lot_holds WHERE location_id <> (SELECT location_id FROM storage_units "
               "WHERE storage_units.id = lot_holds.storage_unit_id)")
    with op.batch_alter_table('lot_holds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lot_holds_location_id_locations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_lot_holds_excursion_id_lot_id_location_id'), type_='unique')
        batch_op.drop_index('ix_lot_holds_lot_id_location_id')
        batch_op.create_unique_constraint(batch_op.f('uq_lot_holds_excursion_id_lot_id'), ['excursion_id', 'lot_id'])
        batch_op.create_index(batch_op.f('ix_lot_holds_lot_id'), ['lot_id'], unique=False)
        batch_op.drop_column('location_id')

    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.drop_column('held')

    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgements_alert_id'))
        batch_op.drop_index(batch_op.f('ix_acknowledgements_alarm_id'))
    op.drop_table('acknowledgements')
