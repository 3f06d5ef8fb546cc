"""Items (with GTINs) and locations: the configuration a manager sets up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from devices.barcodes.gtin import to_gtin14

from ..db.direct import Direct
from ..db.models import Item, ItemGtin, ItemHibc, Location
from ..db.uow import UnitOfWork
from ..domain.errors import Conflict, InvalidRequest, NotFound
from . import history
from .context import Context
from .pagination import Page, page_by_id


def _gtin14(value: str) -> str | None:
    return to_gtin14(value.strip())


STORAGE_KINDS = ("room", "refrigerated", "frozen", "ultra_cold")
LOCATION_KINDS = ("stockroom", "shelf", "storage_unit", "clinic_room")


def item_to_dict(item: Item) -> dict[str, Any]:
    return {
        "id": item.id, "name": item.name, "sku": item.sku, "unit": item.unit, "storage": item.storage,
        "gtins": [g.gtin for g in item.gtins], "hibc_codes": [h.code for h in item.hibc_codes],
        "created_at": item.created_at,
    }


def location_to_dict(loc: Location) -> dict[str, Any]:
    return {"id": loc.id, "code": loc.code, "name": loc.name, "kind": loc.kind, "created_at": loc.created_at}


def create_item(
    uow: UnitOfWork, ctx: Context, *, name: str, sku: str | None = None, unit: str = "each",
    gtins: list[str] | None = None, storage: str = "room", hibc_codes: list[str] | None = None,
) -> Item:
    """Create an item. GTINs are check-digit validated and stored as GTIN-14 (GS1 GenSpecs §3.3.2).
    The creation is recorded in the item's history."""
    _assert_storage(storage)
    normalised = _gtins(gtins or [])
    _assert_gtins_free(uow, normalised, None)
    _assert_sku_free(uow, sku, None)
    codes = _hibc_codes(hibc_codes or [])
    _assert_hibc_free(uow, codes)
    item = Item(name=name, sku=sku or None, unit=unit, storage=storage, created_at=ctx.now,
                gtins=[ItemGtin(gtin=g) for g in normalised], hibc_codes=[ItemHibc(code=c) for c in codes])
    uow.session.add(item)
    uow.session.flush()
    history.record_created(uow, ctx, "item", item.id, _editable(item))
    return item


#: What PATCH /items/<id> may change; `gtins` and `hibc_codes` are replaced as whole lists.
ITEM_FIELDS = ("name", "sku", "unit", "storage", "gtins", "hibc_codes")


def _editable(item: Item) -> dict[str, Any]:
    d = item_to_dict(item)
    return {**{k: d[k] for k in ITEM_FIELDS}, "gtins": sorted(d["gtins"]), "hibc_codes": sorted(d["hibc_codes"])}


def update_item(uow: UnitOfWork, ctx: Context, item_id: int, *, reason: str | None = None,
                **changes: Any) -> Item:
    """Change an item's fields (`ITEM_FIELDS`; any subset) and record each changed field in its history.

    `gtins` and `hibc_codes`, when given, replace the item's lists. They are validated as on create
    (check digit, GTIN-14, no duplicates: 422 `bad_gtin`, `duplicate_gtin`, `bad_hibc_code`) and must
    not belong to another item (409 `gtin_taken`, `hibc_taken`); an empty `sku` clears it, a taken one
    is 409 `sku_taken`. Lots, stock and the ledger refer to the item by id, so none of them changes.
    """
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise InvalidRequest(f"items have no field {', '.join(sorted(unknown))}", code="bad_field")
    item = uow.session.get(Item, item_id, with_for_update=True)
    if item is None:
        raise NotFound(f"item {item_id} not found", code="item_not_found")
    before = _editable(item)
    if "name" in changes:
        if not str(changes["name"] or "").strip():
            raise InvalidRequest("name must not be empty", code="bad_name")
        item.name = changes["name"]
    if "unit" in changes:
        if not str(changes["unit"] or "").strip():
            raise InvalidRequest("unit must not be empty", code="bad_unit")
        item.unit = changes["unit"]
    if "storage" in changes:
        _assert_storage(changes["storage"])
        item.storage = changes["storage"]
    if "sku" in changes:
        _assert_sku_free(uow, changes["sku"], item.id)
        item.sku = changes["sku"] or None
    if "gtins" in changes:
        normalised = _gtins(changes["gtins"] or [])
        _assert_gtins_free(uow, normalised, item.id)
        kept = [g for g in item.gtins if g.gtin in normalised]
        have = {g.gtin for g in kept}
        item.gtins = [*kept, *(ItemGtin(gtin=g) for g in normalised if g not in have)]
    if "hibc_codes" in changes:
        codes = _hibc_codes(changes["hibc_codes"] or [])
        _assert_hibc_free(uow, codes, item.id)
        kept_h = [h for h in item.hibc_codes if h.code in codes]
        have = {h.code for h in kept_h}
        item.hibc_codes = [*kept_h, *(ItemHibc(code=c) for c in codes if c not in have)]
    try:
        with uow.session.begin_nested():
            uow.session.flush()
    except IntegrityError as exc:  # another request took one of them since the checks above
        raise Conflict("a GTIN, HIBC code or SKU given was just taken by another item", code="identifier_taken") \
            from exc
    history.record(uow, ctx, "item", item.id, before, _editable(item), reason)
    return item


def item_history(uow: UnitOfWork, item_id: int, *, limit: int | None = None, cursor: str | None = None) -> Page:
    get_item(uow, item_id)
    return history.changes(uow, "item", item_id, limit=limit, cursor=cursor)


def _assert_storage(storage: str) -> None:
    if storage not in STORAGE_KINDS:
        raise InvalidRequest(f"storage must be one of {', '.join(STORAGE_KINDS)}", code="bad_storage")


def _gtins(raw_gtins: list[str]) -> list[str]:
    normalised = []
    for raw in raw_gtins:
        gtin = _gtin14(raw)
        if gtin is None:
            raise InvalidRequest(f"{raw!r} is not a valid GTIN (length or check digit)", code="bad_gtin")
        normalised.append(gtin)
    if len(set(normalised)) != len(normalised):
        raise InvalidRequest("the same GTIN is listed twice", code="duplicate_gtin")
    return normalised


def _assert_gtins_free(uow: UnitOfWork, gtins: list[str], item_id: int | None) -> None:
    q = select(ItemGtin.gtin).where(ItemGtin.gtin.in_(gtins))
    if item_id is not None:
        q = q.where(ItemGtin.item_id != item_id)
    taken = uow.session.scalars(q).all()
    if taken:
        raise Conflict(f"GTIN already belongs to another item: {', '.join(taken)}", code="gtin_taken")


def _assert_sku_free(uow: UnitOfWork, sku: str | None, item_id: int | None) -> None:
    if not sku:
        return
    q = select(Item.id).where(Item.sku == sku)
    if item_id is not None:
        q = q.where(Item.id != item_id)
    if uow.session.scalar(q) is not None:
        raise Conflict(f"SKU {sku!r} already exists", code="sku_taken")


def _hibc_codes(raw_codes: list[str]) -> list[str]:
    codes = [_hibc_code(c) for c in raw_codes]
    if len(set(codes)) != len(codes):
        raise InvalidRequest("the same HIBC code is listed twice", code="duplicate_hibc_code")
    return codes


def _hibc_code(value: str) -> str:
    """HIBC product identity `+LIC PCN U/M` without the leading `+` (ANSI/HIBC 2.6 §2.1)."""
    code = value.strip().lstrip("+").upper()
    if not 6 <= len(code) <= 23 or not code[0].isalpha() or not code.isalnum() or not code[-1].isdigit():
        raise InvalidRequest(f"{value!r} is not an HIBC LIC+PCN+unit-of-measure code", code="bad_hibc_code")
    return code


def _assert_hibc_free(uow: UnitOfWork, codes: list[str], item_id: int | None = None) -> None:
    q = select(ItemHibc.code).where(ItemHibc.code.in_(codes))
    if item_id is not None:
        q = q.where(ItemHibc.item_id != item_id)
    taken = uow.session.scalars(q).all()
    if taken:
        raise Conflict(f"HIBC code already belongs to another item: {', '.join(taken)}", code="hibc_taken")


def add_identifier(uow: UnitOfWork, item: Item, *, gtin: str | None = None, hibc_code: str | None = None) -> None:
    """Map one more GTIN or HIBC code to `item` (a manager resolving an unknown scan)."""
    if gtin is not None:
        normalised = _gtin14(gtin)
        if normalised is None:
            raise InvalidRequest(f"{gtin!r} is not a valid GTIN", code="bad_gtin")
        owner = uow.session.get(ItemGtin, normalised)
        if owner is not None and owner.item_id != item.id:
            raise Conflict(f"GTIN {normalised} already belongs to item {owner.item_id}", code="gtin_taken")
        if owner is None:
            item.gtins.append(ItemGtin(gtin=normalised))
    if hibc_code is not None:
        code = _hibc_code(hibc_code)
        owner_h = uow.session.get(ItemHibc, code)
        if owner_h is not None and owner_h.item_id != item.id:
            raise Conflict(f"HIBC code {code} already belongs to item {owner_h.item_id}", code="hibc_taken")
        if owner_h is None:
            item.hibc_codes.append(ItemHibc(code=code))
    uow.session.flush()


@dataclass(frozen=True)
class ItemRef:
    """What the scan path needs of an item."""

    id: int
    name: str


#: The tables an item's codes live in, by kind, with the column holding the code.
CODE_TABLES: dict[str, tuple[Any, str]] = {"gtin": (ItemGtin.__table__, "gtin"), "hibc": (ItemHibc.__table__, "code")}


def item_by_code(kind: str, *extra: Any) -> Any:
    """SELECT items.id, items.name (then `extra` columns, which may refer to `items`) of the item
    whose code of `kind` is bound as `code` (see code_of)."""
    items = Item.__table__
    codes, column = CODE_TABLES[kind]
    return (select(items.c.id, items.c.name, *extra).join(codes, codes.c.item_id == items.c.id)
            .where(codes.c[column] == bindparam("code")))


_ITEM_BY_CODE = {kind: Direct(item_by_code(kind)) for kind in CODE_TABLES}


def code_of(gtin: str | None, hibc_code: str | None) -> tuple[str, str] | None:
    """(kind, code) as stored for a label's GTIN (as GTIN-14) or, without one, its HIBC code; None
    when the label names no item (or its GTIN is not a valid one)."""
    if gtin is not None:
        normalised = _gtin14(gtin)
        return ("gtin", normalised) if normalised is not None else None
    if hibc_code is not None:
        return "hibc", hibc_code.lstrip("+").upper()
    return None


def find_item(uow: UnitOfWork, *, gtin: str | None = None, hibc_code: str | None = None) -> ItemRef | None:
    """The item a label names, by GTIN or HIBC code; None when nobody has mapped it yet."""
    # One plain query on the scan path (hot): the item's id and name by its code, no ORM object.
    code = code_of(gtin, hibc_code)
    if code is None:
        return None
    row = _ITEM_BY_CODE[code[0]].run(uow, {"code": code[1]}).first()
    return ItemRef(row[0], row[1]) if row is not None else None


def get_item(uow: UnitOfWork, item_id: int) -> Item:
    item = uow.session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} not found", code="item_not_found")
    return item


def item_by_gtin(uow: UnitOfWork, gtin: str) -> Item:
    normalised = _gtin14(gtin)
    if normalised is None:
        raise InvalidRequest(f"{gtin!r} is not a valid GTIN", code="bad_gtin")
    row = uow.session.get(ItemGtin, normalised)
    if row is None:
        raise NotFound(f"no item has GTIN {normalised}", code="unknown_gtin")
    return row.item


def list_items(uow: UnitOfWork, *, limit: int | None, cursor: str | None, gtin: str | None = None) -> Page:
    q = select(Item)
    if gtin:
        q = q.join(ItemGtin).where(ItemGtin.gtin == (_gtin14(gtin) or gtin))
    return page_by_id(uow.session, q, Item.id, limit=limit, cursor=cursor, to_dict=item_to_dict)


def create_location(uow: UnitOfWork, ctx: Context, *, code: str, name: str, kind: str) -> Location:
    if kind not in LOCATION_KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(LOCATION_KINDS)}", code="bad_kind")
    loc = Location(code=code, name=name, kind=kind, created_at=ctx.now)
    uow.session.add(loc)
    try:
        uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"location code {code!r} already exists", code="location_code_taken") from exc
    return loc


def get_location(uow: UnitOfWork, location_id: int) -> Location:
    loc = uow.session.get(Location, location_id)
    if loc is None:
        raise NotFound(f"location {location_id} not found", code="location_not_found")
    return loc


def list_locations(uow: UnitOfWork, *, limit: int | None, cursor: str | None) -> Page:
    return page_by_id(uow.session, select(Location), Location.id, limit=limit, cursor=cursor,
                      to_dict=location_to_dict)
