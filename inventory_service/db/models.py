"""Every mapped class in one import, for Alembic's autogenerate and for services."""

from .alerts import Alert
from .auth import ApiToken
from .base import Base
from .catalog import Item, ItemGtin, ItemHibc, Location
from .recalls import Recall, RecallLot
from .stations import CountLine, Scan, Scanner
from .stock import Balance, LedgerHead, Lot, Movement, ParLevel

__all__ = [
    "Alert", "ApiToken", "Balance", "Base", "CountLine", "Item", "ItemGtin", "ItemHibc", "LedgerHead",
    "Location", "Lot", "Movement", "ParLevel", "Recall", "RecallLot", "Scan", "Scanner",
]
