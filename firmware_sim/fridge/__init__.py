"""Simulated vaccine-fridge data logger: the device side of ARCHITECTURE §4 MQTT `coldchain/<id>/...`.

It imports neither `devices` nor `inventory_service`, so the simulator and the service's parser cannot
share a bug. Layers, each usable alone:

- `model.FridgeModel`: pure, seeded thermal model (compressor hysteresis, door, faults, power);
- `series`: scenarios as data, `generate()` -> readings, `batches()` -> the messages a logger would send
  (single objects, and backfill arrays after an outage, oldest first, seq continuous);
- `publisher.SimulatedFridge`: paho 2.x client with the retained status and Last Will, QoS 1 readings,
  an accelerated clock, real link drops during outages, and `kill` to make the Will fire;
- `cli`: `python -m firmware_sim fridge --sensor ID --scenario ...`.
"""

from .model import COMPRESSOR_FAILURE, DOOR_OPEN, POWER_OFF, THERMOSTAT_FAULT, FridgeModel
from .publisher import SimulatedFridge, Summary, default_start
from .series import (
    NETWORK_DOWN,
    SCENARIOS,
    Batch,
    Reading,
    Scenario,
    Tick,
    Window,
    batches,
    generate,
    make_scenario,
    rfc3339,
    ticks,
)

__all__ = [
    "COMPRESSOR_FAILURE", "DOOR_OPEN", "NETWORK_DOWN", "POWER_OFF", "SCENARIOS", "THERMOSTAT_FAULT", "Batch",
    "FridgeModel", "Reading", "Scenario", "SimulatedFridge", "Summary", "Tick", "Window", "batches",
    "default_start", "generate", "make_scenario", "rfc3339", "ticks",
]
