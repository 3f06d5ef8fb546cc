"""Equipment, maintenance plans, tickets and cycles."""

from __future__ import annotations

from datetime import date

from marshmallow import fields, validate

from ...services.equipment import KINDS, STATUSES
from .common import INT64_MAX, Date, DateTime, RowId, Strict

ID = validate.Regexp(r"^[A-Za-z0-9._-]{1,64}$")
#: Bounds that keep date arithmetic in range: at most 3,660 days, weeks or months between tasks, a due
#: date before the year 3000, a cycle interval of at most a billion.
EVERY = validate.Range(min=1, max=3660)
EVERY_CYCLES = validate.Range(min=1, max=10**9)
DUE = validate.Range(min=date(2000, 1, 1), max=date(2999, 12, 31))


class EquipmentIn(Strict):
    id = fields.String(required=True, validate=ID, metadata={"description": "also its MQTT device id"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    make = fields.String(load_default=None, validate=validate.Length(max=100))
    model = fields.String(load_default=None, validate=validate.Length(max=100))
    serial = fields.String(load_default=None, validate=validate.Length(max=100))
    location_id = fields.Integer(load_default=None, validate=RowId)
    storage_unit_id = fields.Integer(load_default=None, validate=RowId)
    sensor_id = fields.String(load_default=None, validate=ID)
    calibration_certificate = fields.String(load_default=None, validate=validate.Length(max=100))
    calibration_expires = Date(load_default=None)
    cycles = fields.Integer(load_default=None, validate=validate.Range(min=0, max=INT64_MAX),
                            metadata={"description": "the lifetime cycle counter now (usage plans count from it)"})


class EquipmentOut(Strict):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    make = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    location_id = fields.Integer(allow_none=True)
    storage_unit_id = fields.Integer(allow_none=True)
    sensor_id = fields.String(allow_none=True)
    calibration_certificate = fields.String(allow_none=True)
    calibration_expires = Date(allow_none=True)
    status = fields.String(required=True)
    cycles = fields.Integer(allow_none=True)
    created_at = DateTime(required=True)
    history = fields.List(fields.Dict())


class EquipmentList(Strict):
    items = fields.List(fields.Nested(EquipmentOut), required=True)
    next = fields.String(allow_none=True, required=True)


class StatusIn(Strict):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ChecklistItem(Strict):
    item = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "unique within the checklist, compared case- and spacing-blind"})
    kind = fields.String(load_default="pass_fail", validate=validate.OneOf(["pass_fail", "note"]))


class PlanIn(Strict):
    equipment_id = fields.String(required=True, validate=ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    every = fields.Integer(load_default=None, validate=EVERY)
    unit = fields.String(load_default="days", validate=validate.OneOf(["days", "weeks", "months"]))
    anchor = fields.String(load_default="scheduled", validate=validate.OneOf(["scheduled", "completed"]))
    every_cycles = fields.Integer(load_default=None, validate=EVERY_CYCLES)
    first_due = Date(load_default=None, validate=DUE)
    checklist = fields.List(fields.Nested(ChecklistItem), load_default=list)
    critical = fields.Boolean(load_default=False)
    out_of_service_when_overdue = fields.Boolean(load_default=False)


class PlanPatch(Strict):
    """Only the fields given change; the plan is re-validated as a whole."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    every = fields.Integer(allow_none=True, validate=EVERY)
    unit = fields.String(validate=validate.OneOf(["days", "weeks", "months"]))
    anchor = fields.String(validate=validate.OneOf(["scheduled", "completed"]))
    every_cycles = fields.Integer(allow_none=True, validate=EVERY_CYCLES)
    checklist = fields.List(fields.Nested(ChecklistItem))
    critical = fields.Boolean()
    out_of_service_when_overdue = fields.Boolean()
    next_due_date = Date(allow_none=True, validate=DUE, metadata={
        "description": "when omitted and every/unit/anchor change: recomputed from the last completed ticket "
                       "(without one the stored date stays)"})
    active = fields.Boolean()
    reason = fields.String(validate=validate.Length(min=1, max=1000), metadata={"description": "kept in the history"})


class PlanOut(Strict):
    id = fields.Integer(required=True)
    equipment_id = fields.String(required=True)
    name = fields.String(required=True)
    every = fields.Integer(allow_none=True)
    unit = fields.String(required=True)
    anchor = fields.String(required=True)
    every_cycles = fields.Integer(allow_none=True)
    checklist = fields.List(fields.Dict(), required=True)
    critical = fields.Boolean(required=True)
    out_of_service_when_overdue = fields.Boolean(required=True)
    kind = fields.String(required=True)
    next_due_date = Date(allow_none=True)
    next_due_cycle = fields.Integer(allow_none=True)
    active = fields.Boolean(required=True)


class PlanList(Strict):
    items = fields.List(fields.Nested(PlanOut), required=True)
    next = fields.String(allow_none=True, required=True)


class TicketOut(Strict):
    id = fields.Integer(required=True)
    equipment_id = fields.String(required=True)
    plan_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    due_date = Date(allow_none=True)
    due_cycle = fields.Integer(allow_none=True)
    checklist = fields.List(fields.Dict(), required=True)
    results = fields.List(fields.Dict(), required=True)
    passed = fields.Boolean(allow_none=True)
    notes = fields.String(allow_none=True)
    opened_at = DateTime(required=True)
    started_at = DateTime(allow_none=True)
    closed_at = DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)


class TicketList(Strict):
    items = fields.List(fields.Nested(TicketOut), required=True)
    next = fields.String(allow_none=True, required=True)


class TicketQuery(Strict):
    equipment_id = fields.String(load_default=None, validate=validate.Length(max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "in_progress", "done", "cancelled"]))


class CheckResult(Strict):
    item = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "a checklist item, matched case- and spacing-blind"})
    result = fields.String(required=True, validate=validate.OneOf(["pass", "fail", "n/a"]))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class TicketAction(Strict):
    action = fields.String(required=True, validate=validate.OneOf(["start", "done", "cancel"]))
    passed = fields.Boolean(load_default=None, metadata={
        "description": "done: follows from the results (any fail fails); if given it must agree with them. "
                       "Without a checklist it defaults to true"})
    notes = fields.String(load_default=None, validate=validate.Length(max=5000))
    results = fields.List(fields.Nested(CheckResult), load_default=list, metadata={
        "description": "done: one result per checklist item of the ticket, none for items it does not have"})


class CycleOut(Strict):
    id = fields.Integer(required=True)
    equipment_id = fields.String(required=True)
    seq = fields.Integer(required=True)
    ts = DateTime(required=True)
    cycle = fields.Integer(required=True)
    program = fields.String(required=True)
    result = fields.String(required=True)
    max_temp_c = fields.Float(required=True)
    hold_min = fields.Float(required=True)
    received_at = DateTime(required=True)


class CycleList(Strict):
    items = fields.List(fields.Nested(CycleOut), required=True)
    next = fields.String(allow_none=True, required=True)


class CycleQuery(Strict):
    from_ = DateTime(load_default=None, data_key="from")
    to = DateTime(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
