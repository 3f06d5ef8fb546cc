"""Stations turn frames into ledger entries or visible rejections (clock: 2026-03-10, New York)."""

from __future__ import annotations

from devices.barcodes import parse_scan
from inventory_service.db.uow import Database
from inventory_service.services import scans, stations
from tests.conftest import Api
from tests.integration.conftest import World, receive, receive_then_age

GS = "\x1d"
GTIN = "09501101530003"


def label(lot: str, expiry: str | None = "270131", qty: int | None = None) -> str:
    """A GS1 DataMatrix as a scanner sends it: ]d2, (01), (17), (10) lot, GS, (30) count."""
    text = f"]d201{GTIN}" + (f"17{expiry}" if expiry else "") + f"10{lot}"
    return text + (f"{GS}30{qty}" if qty else "")


def balance(api: Api, location: int) -> dict[str, int]:
    rows = api.get(f"/api/v1/stock?location_id={location}", expect=200).json["items"]
    return {r["lot_number"]: r["quantity"] for r in rows}


def test_receive_creates_the_lot_from_the_label(scan, api: Api, world: World):
    s = scan(label("AB-123"))
    assert (s["outcome"], s["kind"], s["lot_number"], s["expiry"]) == ("applied", "gs1", "AB-123",
                                                                       s["expiry"])
    assert str(s["expiry"]) == "2027-01-31"
    assert balance(api, world.stockroom) == {"AB-123": 1}
    m = api.get("/api/v1/movements", expect=200).json["items"][0]
    assert (m["source"], m["actor"], m["id"]) == ("station", "station:sr-1", s["movement_ids"][0])


def test_a_rescan_without_expiry_reuses_the_lot_and_keeps_its_expiry(scan, api: Api, world: World):
    scan(label("AB-123"))
    s = scan(label("AB-123", expiry=None))
    assert s["outcome"] == "applied"
    lots = api.get("/api/v1/lots", expect=200).json["items"]
    assert [(lot["lot_number"], lot["expiry"]) for lot in lots] == [("AB-123", "2027-01-31")]


def test_receiving_an_unknown_lot_without_expiry_is_rejected(scan):
    s = scan(label("NEW", expiry=None))
    assert (s["outcome"], s["reason"]) == ("rejected", "missing_expiry")


def test_qty_card_and_label_count(scan, api: Api, world: World):
    scan("#QTY:5")
    scan(label("A"))
    scan(label("B", qty=12))
    scan(label("A"))
    assert balance(api, world.stockroom) == {"A": 6, "B": 12}


def test_consume_mode_uses_the_scanned_lot_and_warns_about_a_sooner_one(scan, api: Api, world: World):
    receive(api, world, "SOON", "2026-06-30", 5)
    scan("#QTY:3")
    scan(label("LATE", expiry="271231"))
    scan("#MODE:CONSUME")
    s = scan(label("LATE", expiry="271231"))
    assert s["outcome"] == "applied"
    assert s["warnings"] == ["fefo_sooner_lot:SOON"]
    assert balance(api, world.stockroom) == {"SOON": 5, "LATE": 2}


def test_consume_rejections_carry_the_stock_reason(scan, api: Api, world: World, clock):
    receive_then_age(api, world, clock, "OLD", "2026-03-01", 5)
    scan("#MODE:CONSUME")
    assert scan(label("OLD", expiry="260301"))["reason"] == "lot_expired"
    scan("#QTY:50")
    receive(api, world, "OK", "2027-01-31", 5)
    s = scan(label("OK"))
    assert (s["outcome"], s["reason"]) == ("rejected", "insufficient_stock")
    assert balance(api, world.stockroom)["OK"] == 5
    api.post("/api/v1/recalls", {"item_id": world.item, "lot_numbers": ["OK"], "reason": "x"}, role="manager",
             expect=201)
    assert scan(label("OK"))["reason"] == "lot_unavailable"


def test_an_unknown_gtin_waits_for_a_manager_and_is_applied_once(scan, api: Api, world: World):
    scan("#QTY:4")
    s = scan("]d20104006381333931" + "17270131" + "10GL-1")
    assert (s["outcome"], s["reason"], s["quantity"]) == ("pending", "unknown_gtin", 4)
    api.post(f"/api/v1/scans/{s['id']}/resolve", {"item_id": world.other_item}, role="staff", expect=403)
    done = api.post(f"/api/v1/scans/{s['id']}/resolve", {"item_id": world.other_item}, role="manager",
                    expect=200).json
    assert (done["outcome"], done["resolved_by"], len(done["movement_ids"])) == ("applied", "manager-token", 1)
    again = api.post(f"/api/v1/scans/{s['id']}/resolve", {"item_id": world.other_item}, role="manager", expect=409)
    assert again.json["error"]["code"] == "not_pending"
    assert balance(api, world.stockroom) == {"GL-1": 4}
    assert "04006381333931" in api.get(f"/api/v1/items/{world.other_item}", expect=200).json["gtins"]
    assert scan("]d20104006381333931" + "17270131" + "10GL-1")["outcome"] == "applied"


def test_count_collects_scans_until_done_and_records_variances(scan, api: Api, world: World):
    receive(api, world, "A", "2027-01-31", 10)
    receive(api, world, "B", "2027-01-31", 3)
    scan("#MODE:COUNT")
    scan("#QTY:4")
    scan(label("A"))
    scan(label("A"))
    scan(label("B"))
    assert balance(api, world.stockroom) == {"A": 10, "B": 3}  # nothing applied before #DONE
    assert scan("#MODE:RECEIVE")["reason"] == "count_open"
    done = scan("#DONE")
    assert done["outcome"] == "command" and len(done["movement_ids"]) == 2
    assert balance(api, world.stockroom) == {"A": 5, "B": 1}
    counts = api.get("/api/v1/movements?kind=count", expect=200).json["items"]
    assert sorted(m["quantity"] for m in counts) == [-5, -2]


def test_transfer_moves_to_the_location_on_the_loc_card(scan, api: Api, world: World):
    receive(api, world, "A", "2027-01-31", 10)
    scan("#MODE:TRANSFER")
    assert scan(label("A"))["reason"] == "no_target_location"
    scan("#LOC:EX1")
    scan("#QTY:3")
    assert scan(label("A"))["outcome"] == "applied"
    assert balance(api, world.clinic) == {"A": 3}


def test_a_loc_card_naming_no_location_is_refused_when_scanned_and_changes_nothing(scan, api: Api, world: World,
                                                                                 db: Database):
    receive(api, world, "A", "2027-01-31", 10)
    scan("#MODE:TRANSFER")
    scan("#LOC:EX1")
    scan("#QTY:2")
    nope = scan("#LOC:NOPE")
    assert (nope["outcome"], nope["reason"], nope["message"]) == (
        "rejected", "unknown_location", "No location NOPE – scan a location label from the list")
    with db.unit_of_work(write=False) as uow:
        s = stations.get_scanner(uow, "sr-1")
        assert (s.mode, s.target_location, s.pending_quantity) == ("transfer", "EX1", 2)  # as before the card
    assert scan(label("A"))["outcome"] == "applied"  # still to EX1, with the pending quantity
    assert balance(api, world.clinic) == {"A": 2}
    assert scan("#LOC:SR")["outcome"] == "command"  # an existing code is taken, in any mode


def test_bad_labels_are_rejected_with_their_reason_and_kept_escaped(scan):
    assert scan("+A123BJC5D6E71X")["reason"] == "bad_check_character"
    assert scan("010703206980498810032915210526")["reason"] == "needs_confirmation"
    junk = scan("\x00\x07zz\x1d\\")
    assert (junk["outcome"], junk["reason"]) == ("rejected", "unparseable")
    assert junk["raw"] == "\\x00\\x07zz\\x1d\\\\"


def test_hibc_labels_resolve_through_the_items_hibc_codes(scan, api: Api, world: World):
    api.post("/api/v1/items", {"name": "Catheter", "hibc_codes": ["A123BJC5D6E71"]}, role="manager", expect=201)
    s = scan("+A123BJC5D6E71G")  # primary only: no lot, so receive refuses it
    assert (s["kind"], s["hibc_code"], s["reason"]) == ("hibc", "A123BJC5D6E71", "missing_lot")


def test_scans_are_listed_and_filtered(scan, api: Api):
    scan(label("A"))
    scan("garbage!")
    rejected = api.get("/api/v1/scans?outcome=rejected", expect=200).json["items"]
    assert [s["reason"] for s in rejected] == ["unparseable"]
    assert len(api.get("/api/v1/scans?scanner_id=sr-1", expect=200).json["items"]) == 2


def test_rereads_count_on_the_frame_they_repeat_even_after_a_refused_frame(scan, db, ctx):
    first = scan(label("A"))
    c = ctx("station:sr-1", "station")
    with db.unit_of_work() as uow:
        scans.record(uow, c, "sr-1", parse_scan("\x00\x00", today=c.today), rejected="noise")
        scans.record(uow, c, "sr-1", parse_scan(label("B"), today=c.today), rereads_before=2)
        uow.commit()
        rows = {s.id: s.rereads for s in uow.session.scalars(__import__("sqlalchemy").select(scans.Scan))}
    assert rows[first["id"]] == 2
    assert sorted(rows.values()) == [0, 0, 2]


def test_a_stray_gs_around_a_command_card_is_ignored(scan):
    assert scan("\x1d#MODE:CONSUME\x1d")["outcome"] == "command"


def test_what_staff_read_says_what_happened_and_what_to_do_without_api_paths(scan, db: Database, ctx, world: World):
    unknown = scan("]d20104006381333931" "17270131" "10X9")
    assert (unknown["outcome"], unknown["message"]) == (
        "pending", "Unknown product – set it aside for the manager, who adds its barcode to an item")
    assert scan("+A123BJC5D6E71X")["message"] == "Label unclear – scan again slowly"
    assert scan("#MODE:COUNT")["message"] == "Count mode"
    c = ctx("station:sr-1", "station")
    with db.unit_of_work() as uow:
        noise = scans.record(uow, c, "sr-1", parse_scan("\x00\x00", today=c.today), rejected="noise")
        cut = scans.record(uow, c, "sr-1", parse_scan("]d2010950", today=c.today), rejected="cut_by_port_loss")
        uow.commit()
    assert noise.message == "Nothing readable came in – scan again"
    assert cut.message == "Cut off: the scanner was unplugged – scan again"
    with db.unit_of_work(write=False) as uow:
        messages = [s["message"] for s in scans.list_scans(uow, scanner_id="sr-1", outcome=None, reason=None,
                                                           limit=50, cursor=None).items]
    assert all((m and "/api" not in m and "POST" not in m and " – " in m) or m == "Count mode" for m in messages)


def test_an_applied_scan_says_what_was_done(scan, api: Api, world: World):
    assert scan(label("W-1", qty=2))["message"] == "Received 2 × Syringe 5 ml"
    scan("#MODE:CONSUME")
    assert scan(label("W-1"))["message"] == "Took out 1 × Syringe 5 ml"
    scan("#MODE:TRANSFER")
    scan("#LOC:EX1")
    assert scan(label("W-1"))["message"] == "Moved 1 × Syringe 5 ml to EX1"
    scan("#MODE:RECEIVE")
    missing = scan(f"]d201{GTIN}17270131")
    assert (missing["reason"], missing["message"]) == (
        "missing_lot", "No lot number on this label – set it aside for the manager")
