"""MQTT payloads from devices: bytes in, typed readings out (ARCHITECTURE §4, MQTT)."""

from devices.mqtt.payloads import (
    MAX_BATCH,
    EquipmentCycle,
    PayloadError,
    TemperatureReading,
    parse_cycle_payload,
    parse_reading_payload,
    parse_status_payload,
    topic_device,
)

__all__ = [
    "MAX_BATCH",
    "EquipmentCycle",
    "PayloadError",
    "TemperatureReading",
    "parse_cycle_payload",
    "parse_reading_payload",
    "parse_status_payload",
    "topic_device",
]
