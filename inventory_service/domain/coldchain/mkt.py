"""Mean kinetic temperature (USP <1160>, <1079.2>).

MKT = (ΔH/R) / -ln( Σ tᵢ·exp(-ΔH/(R·Tᵢ)) / Σ tᵢ ), Tᵢ in kelvin, tᵢ the time each reading stands for.
ΔH = 83.144 kJ/mol and R = 8.3144 J/mol/K give ΔH/R = 10 000 K. Pitfalls avoided: Celsius in the
exponent, J vs kJ, equal weights for unequal intervals, gaps counted as data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .timeline import Segment

R_J_PER_MOL_K = 8.3144
DEFAULT_DELTA_H_KJ_MOL = 83.144
KELVIN = 273.15


def mkt_c(segments: Iterable[Segment], delta_h_kj_mol: float = DEFAULT_DELTA_H_KJ_MOL) -> float | None:
    """MKT in °C over reading segments weighted by duration; no-data segments are skipped.
    None when there is no data."""
    ratio = delta_h_kj_mol * 1000 / R_J_PER_MOL_K
    weight = total = 0.0
    for s in segments:
        if s.temp_c is None or s.minutes <= 0:
            continue
        weight += s.minutes
        total += s.minutes * math.exp(-ratio / (s.temp_c + KELVIN))
    if weight == 0:
        return None
    return ratio / -math.log(total / weight) - KELVIN
