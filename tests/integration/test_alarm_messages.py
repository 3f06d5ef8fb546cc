"""The alarm e-mail a manager reads at night: what happened, what is held, what to do (clock: New York)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inventory_service.db.models import Alert
from inventory_service.db.uow import Database
from inventory_service.services import delivery
from tests.conftest import Api
from tests.integration.conftest import World, receive
from tests.support import coldchain
from tests.support.clock import FrozenClock

T0 = datetime(2026, 3, 10, 15, 10, tzinfo=UTC)  # 11:10 in New York


def feed(db: Database, clock: FrozenClock, temps: list[float], start: datetime = T0, seq0: int = 0) -> None:
    coldchain.feed(db, clock, temps, start=start, seq0=seq0, sensor="probe-a")


def email_of(db: Database) -> tuple[str, str]:
    with db.unit_of_work(write=False) as uow:
        from sqlalchemy import select

        alert = uow.session.scalar(select(Alert).where(Alert.kind == "excursion"))
        assert alert is not None
        message = delivery.message_for(alert, "notify")
        return message.subject, message.body


def test_the_alarm_email_names_the_unit_the_held_lots_the_excursion_and_what_to_do(api: Api, db: Database,
                                                                                   clock: FrozenClock, world: World):
    unit = api.post("/api/v1/storage-units", {"name": "Vaccine fridge A", "kind": "refrigerator"}, role="manager",
                    expect=201).json
    api.post("/api/v1/sensors", {"id": "probe-a", "storage_unit_id": unit["id"]}, role="manager", expect=201)
    mmr = api.post("/api/v1/items", {"name": "MMR vaccine"}, role="manager", expect=201).json["id"]
    receive(api, world, "MMR55", "2027-01-31", 5, location=unit["location_id"], item=mmr)
    receive(api, world, "MMR56", "2027-02-28", 12, location=unit["location_id"], item=mmr)
    feed(db, clock, [5.0] * 2 + [9.5, 12.0, 14.8, 14.0, 13.0, 12.0, 11.0])  # high from 11:20, 35 min so far
    subject, body = email_of(db)
    assert subject == "Vaccine fridge A above 8.0 °C for 30 min"
    assert "(consecutive" not in subject
    assert "Vaccine fridge A has been above 8.0 °C since 11:20 on Tue 10 Mar 2026 (35 min so far; peak 14.8 °C)" \
        in body
    assert "MMR vaccine lot MMR55: 5 in Vaccine fridge A" in body
    assert "MMR vaccine lot MMR56: 12 in Vaccine fridge A" in body
    assert "Do not throw it away" in body
    [ex] = api.get(f"/api/v1/storage-units/{unit['id']}/excursions?from=2026-03-10&to=2026-03-10",
                   expect=200).json["items"]
    assert f"Record a decision for each lot (release, discard or ask the manufacturer): /excursions/{ex['id']}" \
        in body
    # A reminder later tells the excursion as it is by then: it went on, then ended.
    feed(db, clock, [10.0, 5.0, 5.0], start=T0 + timedelta(minutes=45), seq0=9)
    _, later = email_of(db)
    assert "was above 8.0 °C from 11:20 on Tue 10 Mar 2026 to 12:00 on Tue 10 Mar 2026 (40 min; peak 14.8 °C)" \
        in later


def test_the_stock_list_names_items_lots_and_locations(api: Api, world: World):
    receive(api, world, "A-1", "2027-01-31", 3)
    [row] = api.get("/api/v1/stock", expect=200).json["items"]
    assert (row["item_name"], row["lot_number"], row["location_code"], row["location_id"]) == (
        "Syringe 5 ml", "A-1", "SR", world.stockroom)
