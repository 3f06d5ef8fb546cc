"""Every mapped class in one import, for Alembic's autogenerate and for services."""

from .alerts import Alert
from .auth import ApiToken
from .base import Base
from .catalog import Item, ItemGtin, ItemHibc, Location
from .coldchain import (
    Alarm,
    Excursion,
    LotHold,
    Reading,
    RejectedInput,
    Sensor,
    SensorAssignment,
    SeqGap,
    StorageUnit,
)
from .recalls import Recall, RecallLot
from .stations import CountLine, Scan, Scanner
from .stock import Balance, LedgerHead, Lot, Movement, ParLevel

__all__ = [
    "Alarm",
    "Alert",
    "ApiToken",
    "Balance",
    "Base",
    "CountLine",
    "Excursion",
    "Item",
    "ItemGtin",
    "ItemHibc",
    "LedgerHead",
    "Location",
    "Lot",
    "LotHold",
    "Movement",
    "ParLevel",
    "Reading",
    "Recall",
    "RecallLot",
    "RejectedInput",
    "Scan",
    "Scanner",
    "Sensor",
    "SensorAssignment",
    "SeqGap",
    "StorageUnit",
]
