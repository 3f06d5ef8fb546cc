"""A pure, deterministic thermal model of a vaccine refrigerator, as its data logger sees it.

One air node with first-order dynamics: while the compressor runs the air approaches the evaporator
(`coil_c`) with time constant `tau_cool_min`, while it is off it approaches the room (`ambient_c`) through
the cabinet with `tau_warm_min`; an open door adds a fast exchange with the room (`tau_door_min`, about
+1 °C/min at first). A mechanical thermostat switches the compressor with hysteresis: on above
`setpoint + band/2`, off below `setpoint - band/2`. Faults change who decides:

- `compressor_failure`: the compressor never cools, the cabinet warms steadily towards the room;
- `thermostat_fault`: the thermostat sticks closed, the compressor never stops, the air goes below 0 °C;
- `power_off`: nothing runs (the logger is on its battery), warming as with a failed compressor.

The logger reads the air with gaussian noise (clipped to ±`noise_c`) and reports 0.1 °C steps, like
real loggers. Everything random comes from one `random.Random(seed)`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

DOOR_OPEN = "door_open"
COMPRESSOR_FAILURE = "compressor_failure"
THERMOSTAT_FAULT = "thermostat_fault"
POWER_OFF = "power_off"
MODEL_EVENTS = frozenset({DOOR_OPEN, COMPRESSOR_FAILURE, THERMOSTAT_FAULT, POWER_OFF})


class FridgeModel:
    """`advance(dt_s, events)` moves the physics on; `read()` is one logger reading; `step` does both."""

    def __init__(self, setpoint_c: float = 5.0, band_c: float = 1.5, ambient_c: float = 22.0, seed: int | None = 0,
                 *, coil_c: float = -8.0, tau_cool_min: float = 60.0, tau_warm_min: float = 360.0,
                 tau_door_min: float = 17.0, noise_c: float = 0.15, substep_s: float = 10.0) -> None:
        if band_c <= 0 or noise_c < 0 or substep_s <= 0:
            raise ValueError("band_c and substep_s must be > 0, noise_c >= 0")
        if min(tau_cool_min, tau_warm_min, tau_door_min) <= 0:
            raise ValueError("time constants must be > 0")
        if not coil_c < setpoint_c - band_c / 2 < setpoint_c + band_c / 2 < ambient_c:
            raise ValueError("need coil_c < setpoint - band/2 and setpoint + band/2 < ambient_c")
        self.setpoint_c, self.band_c, self.ambient_c, self.coil_c = setpoint_c, band_c, ambient_c, coil_c
        self.tau_cool_s, self.tau_warm_s, self.tau_door_s = tau_cool_min * 60, tau_warm_min * 60, tau_door_min * 60
        self.noise_c, self.substep_s = noise_c, substep_s
        self.rng = random.Random(seed)
        # Start somewhere in a normal cycle, so two seeds do not run in lockstep.
        self.air_c = self.rng.uniform(self.on_above_c, self.off_below_c)
        self.compressor_on = self.rng.random() < 0.3
        self.elapsed_s = 0.0

    @property
    def on_above_c(self) -> float:
        return self.setpoint_c + self.band_c / 2

    @property
    def off_below_c(self) -> float:
        return self.setpoint_c - self.band_c / 2

    def advance(self, dt_s: float, events: Iterable[str] = ()) -> float:
        """Move `dt_s` seconds on with `events` holding throughout; return the true air temperature."""
        active = frozenset(events)
        unknown = active - MODEL_EVENTS
        if unknown:
            raise ValueError(f"unknown event(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(MODEL_EVENTS))}")
        if dt_s < 0:
            raise ValueError("dt_s must be >= 0")
        steps = math.ceil(dt_s / self.substep_s)
        for _ in range(steps):
            self._substep(dt_s / steps, active)
        self.elapsed_s += dt_s
        return self.air_c

    def _substep(self, h: float, active: frozenset[str]) -> None:
        powered = POWER_OFF not in active
        if THERMOSTAT_FAULT in active:
            self.compressor_on = powered
        elif not powered:
            self.compressor_on = False
        elif self.air_c >= self.on_above_c:
            self.compressor_on = True
        elif self.air_c <= self.off_below_c:
            self.compressor_on = False
        cooling = self.compressor_on and COMPRESSOR_FAILURE not in active
        # Exact solution of dT/dt = sum_i (target_i - T) / tau_i over h, the rates held constant.
        rates = [(self.coil_c, 1 / self.tau_cool_s) if cooling else (self.ambient_c, 1 / self.tau_warm_s)]
        if DOOR_OPEN in active:
            rates.append((self.ambient_c, 1 / self.tau_door_s))
        k = sum(rate for _, rate in rates)
        target = sum(temp * rate for temp, rate in rates) / k
        self.air_c = target + (self.air_c - target) * math.exp(-k * h)

    def read(self) -> float:
        """One logger reading of the air: noise clipped to ±noise_c, rounded to 0.1 °C."""
        noise = max(-self.noise_c, min(self.noise_c, self.rng.gauss(0.0, self.noise_c / 2))) if self.noise_c else 0.0
        return round(self.air_c + noise, 1) + 0.0  # + 0.0 turns -0.0 into 0.0

    def step(self, dt_s: float, events: Iterable[str] = ()) -> float:
        """`advance` then `read`: the reading the logger takes `dt_s` seconds later."""
        self.advance(dt_s, events)
        return self.read()
