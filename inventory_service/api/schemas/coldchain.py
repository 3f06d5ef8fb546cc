"""Storage units, sensors, readings, excursions, alarms and dispositions."""

from __future__ import annotations

from marshmallow import fields, validate

from ...domain.coldchain.ranges import PRESETS
from ...services.dispositions import DISPOSITIONS
from ...services.storage_units import UNIT_KINDS
from .alerts import AckRecord
from .common import Celsius, Cursor, Date, DateTime, Limit, RowId, Strict, page_of


class AlarmRuleSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(["high", "low"]))
    mode = fields.String(required=True, validate=validate.OneOf(["consecutive", "cumulative"]))
    delay_min = fields.Float(required=True, validate=validate.Range(min=0, max=525_600))
    threshold_c = fields.Float(load_default=None, allow_none=True, validate=Celsius)
    inclusive = fields.Boolean(load_default=False)


class UnitIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    location_id = fields.Integer(load_default=None, allow_none=True, validate=RowId)
    min_c = fields.Float(load_default=None, allow_none=True, validate=Celsius)
    max_c = fields.Float(load_default=None, allow_none=True, validate=Celsius)
    alarm_rules = fields.List(fields.Nested(AlarmRuleSchema), load_default=None, allow_none=True)
    preset = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(PRESETS)))
    no_data_min = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=1, max=525_600))


class UnitOut(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    location_id = fields.Integer(required=True, validate=RowId)
    min_c = fields.Float(required=True)
    max_c = fields.Float(required=True)
    alarm_rules = fields.List(fields.Dict(), required=True)
    no_data_min = fields.Float(required=True)
    created_at = DateTime(required=True)


class UnitList(Strict):
    items = fields.List(fields.Nested(UnitOut), required=True)
    next = fields.String(allow_none=True, required=True)


class SensorIn(Strict):
    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,64}$"))
    storage_unit_id = fields.Integer(required=True, allow_none=True, validate=RowId)
    interval_min = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0.1, max=1440))


class SensorOut(Strict):
    id = fields.String(required=True)
    storage_unit_id = fields.Integer(allow_none=True)
    interval_min = fields.Float(required=True)
    status = fields.String(required=True)
    status_at = DateTime(allow_none=True)
    battery_pct = fields.Float(allow_none=True)
    last_seen_at = DateTime(allow_none=True)
    last_reading_at = DateTime(allow_none=True)
    max_seq = fields.Integer(allow_none=True)
    assignments = fields.List(fields.Dict(), required=False)


class SensorList(Strict):
    items = fields.List(fields.Nested(SensorOut), required=True)
    next = fields.String(allow_none=True, required=True)


class DateRange(Strict):
    from_ = Date(required=True, data_key="from")
    to = Date(required=True)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class DayAlarm(Strict):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    mode = fields.String(required=True)
    triggered_at = DateTime(required=True)
    ended_at = DateTime(allow_none=True)


class Day(Strict):
    date = Date(required=True)
    min_c = fields.Float(allow_none=True)
    max_c = fields.Float(allow_none=True)
    mean_c = fields.Float(allow_none=True)
    minutes_high = fields.Float(required=True)
    minutes_low = fields.Float(required=True)
    minutes_no_data = fields.Float(required=True)
    alarms = fields.List(fields.Nested(DayAlarm), required=True)


class DailySummary(Strict):
    days = fields.List(fields.Nested(Day), required=True)


class Decision(Strict):
    disposition = fields.String(required=True)
    decided_by = fields.String(required=True)
    decided_at = DateTime(required=True)
    notes = fields.String(allow_none=True)
    manufacturer_reference = fields.String(allow_none=True)
    exposure_min = fields.Float(required=True, metadata={"description": "the exposure when it was decided"})
    excursion_ongoing = fields.Boolean(required=True, metadata={"description": "whether it was still going on"})
    quantity = fields.Integer(required=True, metadata={"description": "on hand there when it was decided"})
    movement_ids = fields.List(fields.Integer(), required=True)


class AffectedLot(Strict):
    """One place where a lot's stock is held for the excursion (the unit, or where exposed stock went)."""

    lot_id = fields.Integer(required=True, validate=RowId)
    lot_number = fields.String(required=True)
    item_id = fields.Integer(required=True, validate=RowId)
    item_name = fields.String(required=True)
    expiry = Date(required=True)
    location_id = fields.Integer(required=True, validate=RowId)
    location_code = fields.String(required=True)
    quantity = fields.Integer(required=True, metadata={"description": "exposed quantity held there"})
    on_hand = fields.Integer(required=True)
    exposure_min = fields.Float(required=True)
    disposition = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = DateTime(allow_none=True)
    notes = fields.String(allow_none=True)
    lot_status = fields.String(required=True, metadata={"description": "the lot's status at that location"})
    decisions = fields.List(fields.Nested(Decision), required=True)


class ExcursionOut(Strict):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    start = DateTime(required=True)
    end = DateTime(allow_none=True)
    ongoing = fields.Boolean(required=True)
    peak_c = fields.Float(required=True)
    min_c = fields.Float(required=True)
    max_c = fields.Float(required=True)
    duration_min = fields.Float(required=True)
    notes = fields.String(allow_none=True)
    alarm_ids = fields.List(fields.Integer(), required=True)
    affected_lots = fields.List(fields.Nested(AffectedLot), required=True)


class ExcursionList(Strict):
    items = fields.List(fields.Nested(ExcursionOut), required=True)


class MktQuery(Strict):
    from_ = DateTime(required=True, data_key="from")
    to = DateTime(required=True)
    delta_h_kj_mol = fields.Float(load_default=None, validate=validate.Range(min=1, max=500))


class MktOut(Strict):
    mkt_c = fields.Float(allow_none=True)
    readings = fields.Integer(required=True)
    from_ = DateTime(required=True, data_key="from")
    to = DateTime(required=True)
    delta_h_kj_mol = fields.Float(required=True)


class ReadingOut(Strict):
    id = fields.Integer(required=True)
    sensor_id = fields.String(required=True)
    seq = fields.Integer(required=True)
    ts = DateTime(required=True)
    temp_c = fields.Float(required=True)
    battery_pct = fields.Float(allow_none=True)
    door_open = fields.Boolean(allow_none=True)
    storage_unit_id = fields.Integer(allow_none=True)
    received_at = DateTime(required=True)


class ReadingPage(page_of(ReadingOut, "ReadingPageBase")):  # type: ignore[misc]
    count = fields.Integer(required=True)


class ReadingQuery(Strict):
    sensor_id = fields.String(load_default=None, validate=validate.Length(max=64))
    storage_unit_id = fields.Integer(load_default=None, validate=RowId)
    from_ = DateTime(load_default=None, data_key="from")
    to = DateTime(load_default=None)
    limit = fields.Integer(load_default=None, validate=Limit)
    cursor = Cursor()


class AlarmOut(Strict):
    id = fields.Integer(required=True)
    storage_unit_id = fields.Integer(required=True, validate=RowId)
    kind = fields.String(required=True)
    mode = fields.String(required=True)
    condition_start = DateTime(required=True)
    triggered_at = DateTime(required=True)
    ended_at = DateTime(allow_none=True)
    excursion_id = fields.Integer(allow_none=True)
    alert_id = fields.Integer(allow_none=True)
    acknowledged_at = DateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    ack_reason = fields.String(allow_none=True)
    acknowledgements = fields.List(fields.Nested(AckRecord), required=True)


class AlarmList(Strict):
    items = fields.List(fields.Nested(AlarmOut), required=True)
    next = fields.String(allow_none=True, required=True)


class AlarmQuery(Strict):
    storage_unit_id = fields.Integer(load_default=None, validate=RowId)
    active = fields.Boolean(load_default=None)


class DispositionIn(Strict):
    lot_id = fields.Integer(required=True, validate=RowId)
    disposition = fields.String(required=True, validate=validate.OneOf(DISPOSITIONS),
                                metadata={"description": "ask_manufacturer is recorded as pending_manufacturer"})
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))
    location_id = fields.Integer(load_default=None, validate=RowId, metadata={
        "description": "decide only the stock held there (default: everywhere it is held for this excursion)"})
    manufacturer_reference = fields.String(load_default=None, validate=validate.Length(max=200))


class DecidedPlace(Strict):
    location_id = fields.Integer(required=True, validate=RowId)
    exposure_min = fields.Float(required=True)
    held = fields.Boolean(required=True, metadata={"description": "still on hold there (another excursion)"})
    movement_ids = fields.List(fields.Integer(), required=True)


class DispositionOut(Strict):
    excursion_id = fields.Integer(required=True, validate=RowId)
    lot_id = fields.Integer(required=True, validate=RowId)
    disposition = fields.String(required=True)
    notes = fields.String(allow_none=True)
    manufacturer_reference = fields.String(allow_none=True)
    decided_by = fields.String(required=True)
    decided_at = DateTime(required=True)
    exposure_min = fields.Float(required=True, metadata={"description": "the exposure this decision was taken on"})
    excursion_ongoing = fields.Boolean(required=True)
    lot_status = fields.String(required=True, metadata={"description": "the lot's status in the exposed unit"})
    locations = fields.List(fields.Nested(DecidedPlace), required=True)
    movement_ids = fields.List(fields.Integer(), required=True)
