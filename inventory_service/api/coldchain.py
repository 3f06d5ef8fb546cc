"""Cold chain over HTTP: storage units, sensors, readings, excursions, alarms, dispositions, MKT."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..db.models import Alarm, Sensor
from ..services import coldchain_queries as q
from ..services import dispositions, storage_units
from .runtime import context, reader, writer
from .schemas.alerts import AckIn
from .schemas.coldchain import (
    AlarmList,
    AlarmOut,
    AlarmQuery,
    DailySummary,
    DateRange,
    DispositionIn,
    DispositionOut,
    ExcursionList,
    MktOut,
    MktQuery,
    ReadingPage,
    ReadingQuery,
    SensorIn,
    SensorList,
    SensorOut,
    UnitIn,
    UnitList,
    UnitOut,
)
from .schemas.common import CSV_TOO, ErrorSchema
from .security import role

units = Blueprint("storage-units", __name__, url_prefix="/api/v1/storage-units", description="Fridges and freezers")
sensors = Blueprint("sensors", __name__, url_prefix="/api/v1/sensors", description="Temperature sensors")
readings = Blueprint("readings", __name__, url_prefix="/api/v1/readings", description="Temperature readings")
excursions = Blueprint("excursions", __name__, url_prefix="/api/v1/excursions", description="Excursions")
alarms = Blueprint("alarms", __name__, url_prefix="/api/v1/alarms", description="Temperature and no-data alarms")

DAY_COLUMNS = ["date", "min_c", "max_c", "mean_c", "minutes_high", "minutes_low", "minutes_no_data", "alarms"]


def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@units.route("")
class Units(MethodView):
    @units.response(200, UnitList)
    def get(self) -> dict[str, Any]:
        with reader() as uow:
            return {"items": storage_units.list_units(uow), "next": None}

    @role("manager")
    @units.arguments(UnitIn)
    @units.response(201, UnitOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a unit (defaults per kind; a location is created for it unless `location_id` is given)."""
        with writer() as uow:
            unit = storage_units.create_unit(uow, context(), **body)
            uow.commit()
            return storage_units.unit_to_dict(unit)


@units.route("/<int:unit_id>")
class UnitById(MethodView):
    @units.response(200, UnitOut)
    def get(self, unit_id: int) -> dict[str, Any]:
        with reader() as uow:
            return storage_units.unit_to_dict(storage_units.get_unit(uow, unit_id))


@units.route("/<int:unit_id>/daily-summary")
class Daily(MethodView):
    @units.arguments(DateRange, location="query")
    @units.response(200, DailySummary, description="JSON; with format=csv, CSV (text/csv)")
    @units.doc(**CSV_TOO)
    def get(self, args: dict[str, Any], unit_id: int) -> Any:
        """The CDC min/max log per site-local day, with every alarm active that day."""
        with reader() as uow:
            days = q.daily_summary(uow, context(), unit_id, args["from_"], args["to"])
        if args["format"] == "csv":
            flat = [{**d, "alarms": ";".join(f"{a['kind']}/{a['mode']}@{a['triggered_at'].isoformat()}"
                                               for a in d["alarms"])} for d in days]
            return _csv(q.to_csv(flat, DAY_COLUMNS), f"unit-{unit_id}-daily.csv")
        return {"days": days}


@units.route("/<int:unit_id>/excursions")
class UnitExcursions(MethodView):
    @units.arguments(DateRange, location="query")
    @units.response(200, ExcursionList, description="JSON; with format=csv, CSV (text/csv): a row per decision")
    @units.doc(**CSV_TOO)
    def get(self, args: dict[str, Any], unit_id: int) -> Any:
        """Every excursion (however short) with its alarms and affected lots."""
        with reader() as uow:
            items = q.excursions(uow, context(), unit_id, args["from_"], args["to"])
        if args["format"] == "csv":
            return _csv(q.to_csv(q.excursion_csv_rows(items), q.EXCURSION_CSV_COLUMNS),
                        f"unit-{unit_id}-excursions.csv")
        return {"items": items}


@units.route("/<int:unit_id>/mkt")
class Mkt(MethodView):
    @units.arguments(MktQuery, location="query")
    @units.response(200, MktOut)
    def get(self, args: dict[str, Any], unit_id: int) -> dict[str, Any]:
        """Mean kinetic temperature over [from, to) (USP <1160>; ΔH 83.144 kJ/mol unless given)."""
        with reader() as uow:
            out = q.mkt(uow, context(), unit_id, args["from_"], args["to"], args["delta_h_kj_mol"])
        return {**out, "from_": out.pop("from")}


@sensors.route("")
class Sensors(MethodView):
    @sensors.response(200, SensorList)
    def get(self) -> dict[str, Any]:
        with reader() as uow:
            rows = uow.session.scalars(select(Sensor).order_by(Sensor.id))
            return {"items": [storage_units.sensor_to_dict(s) for s in rows], "next": None}

    @role("manager")
    @sensors.arguments(SensorIn)
    @sensors.response(201, SensorOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a sensor or move it to another unit (the assignment history is kept)."""
        with writer() as uow:
            sensor = storage_units.assign_sensor(uow, context(), sensor_id=body["id"],
                                                 storage_unit_id=body["storage_unit_id"],
                                                 interval_min=body["interval_min"])
            uow.commit()
            return {**storage_units.sensor_to_dict(sensor), "assignments": storage_units.assignments(uow, sensor.id)}


@readings.route("")
class Readings(MethodView):
    @readings.arguments(ReadingQuery, location="query")
    @readings.response(200, ReadingPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Readings oldest first; `count` is the number matching the filter."""
        with reader() as uow:
            page, total = q.list_readings(uow, sensor_id=args["sensor_id"], storage_unit_id=args["storage_unit_id"],
                                          start=args["from_"], end=args["to"], limit=args["limit"],
                                          cursor=args["cursor"])
        return {"items": page.items, "next": page.next, "count": total}


@excursions.route("/<int:excursion_id>/dispositions")
class Dispositions(MethodView):
    @role("manager")
    @excursions.arguments(DispositionIn)
    @excursions.response(201, DispositionOut)
    @excursions.alt_response(409, schema=ErrorSchema,
                             description="already_decided; excursion_ongoing (release while the unit is out of range)")
    def post(self, body: dict[str, Any], excursion_id: int) -> dict[str, Any]:
        """Decide what happens to a lot's held stock: release, discard (dispose movements) or
        ask_manufacturer (= pending_manufacturer), everywhere it is held for this excursion or only at
        `location_id`. Release is refused while the excursion goes on for stock still in the unit."""
        with writer() as uow:
            out = dispositions.decide(uow, context(), excursion_id, body["lot_id"], body["disposition"],
                                      body["notes"], location_id=body["location_id"],
                                      manufacturer_reference=body["manufacturer_reference"])
            uow.commit()
            return out


@alarms.route("")
class Alarms(MethodView):
    @alarms.arguments(AlarmQuery, location="query")
    @alarms.response(200, AlarmList)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        query = select(Alarm).order_by(Alarm.triggered_at.desc()).limit(500)
        if args["storage_unit_id"] is not None:
            query = query.where(Alarm.storage_unit_id == args["storage_unit_id"])
        if args["active"] is not None:
            query = query.where(Alarm.ended_at.is_(None) if args["active"] else Alarm.ended_at.is_not(None))
        with reader() as uow:
            return {"items": q.alarms_to_dicts(uow, list(uow.session.scalars(query))), "next": None}


@alarms.route("/<int:alarm_id>/ack")
class AlarmAck(MethodView):
    @role("manager")
    @alarms.arguments(AckIn)
    @alarms.response(200, AlarmOut)
    def post(self, body: dict[str, Any], alarm_id: int) -> dict[str, Any]:
        """Acknowledge (who, when, reason), allowed while the excursion goes on; the alarm stays open until
        its condition ends. Every acknowledgement is kept: a second one is added to `acknowledgements` and
        never replaces the first (`acknowledged_at/by`, `ack_reason`)."""
        with writer() as uow:
            alarm = dispositions.acknowledge_alarm(uow, context(), alarm_id, body["reason"])
            uow.commit()
            [out] = q.alarms_to_dicts(uow, [alarm])
            return out
