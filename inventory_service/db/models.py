"""Every mapped class in one import, for Alembic's autogenerate and for services."""

from .alerts import Acknowledgement, Alert
from .auth import ApiToken
from .base import Base
from .catalog import Item, ItemGtin, ItemHibc, Location
from .coldchain import (
    Alarm,
    Excursion,
    HoldDecision,
    LotHold,
    Reading,
    RejectedInput,
    Sensor,
    SensorAssignment,
    SeqGap,
    StorageUnit,
)
from .equipment import Equipment, EquipmentCycle, EquipmentStatusChange, MaintenancePlan, Ticket
from .history import ConfigChange
from .notify import Delivery, JobRun, RoutingRule
from .recalls import Recall, RecallLot
from .stations import CountLine, Scan, Scanner, ScannerConfigProblem
from .stock import Balance, LedgerHead, Lot, Movement, ParLevel

__all__ = [
    "Acknowledgement", "Alarm", "Alert", "ApiToken", "Balance", "Base", "ConfigChange", "CountLine", "Delivery",
    "Equipment", "EquipmentCycle", "EquipmentStatusChange", "Excursion", "HoldDecision", "Item", "ItemGtin", "ItemHibc",
    "JobRun", "LedgerHead", "Location", "Lot", "LotHold", "MaintenancePlan", "Movement", "ParLevel", "Reading",
    "Recall", "RecallLot", "RejectedInput", "RoutingRule", "Scan", "Scanner", "ScannerConfigProblem", "Sensor",
    "SensorAssignment", "SeqGap", "StorageUnit", "Ticket",
]
