"""The alert kinds the service raises: the only values a routing rule's `kinds` may name.

A rule naming a kind nothing raises could never fire, so the API refuses it. Each kind, and what
raises it (`alerts.raise_alert(kind=...)` in the service named):

- `reorder`: usable stock of an item at a location is at or below its reorder point (services.reorder).
- `expiry`: a lot is within an expiry horizon (90/60/30 days by default) or has expired (services.expiry).
- `excursion`: a storage unit's high or low alarm rule fired; exposed lots are on hold (services.cold_evaluation).
- `no_data`: an assigned sensor of a storage unit has been silent past its limit (services.cold_evaluation).
- `maintenance`: a device was taken out of service (failed check or cycle: corrective ticket) or a critical
  ticket is overdue (services.maintenance).
- `recall`: lots were recalled and quarantined at every location (services.recalls).
- `digest`: the manager's daily digest (services.digest); raised and resolved at once, so it is routed once.

A new `raise_alert` kind must be added here, or no rule can route it by kind.
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    "reorder": "usable stock of an item at a location is at or below its reorder point",
    "expiry": "a lot is within an expiry horizon (90/60/30 days by default) or has expired",
    "excursion": "a storage unit's temperature alarm fired (high or low); exposed lots are on hold",
    "no_data": "a storage unit's sensor has sent nothing for longer than its limit",
    "maintenance": "a device was taken out of service or a critical maintenance ticket is overdue",
    "recall": "lots were recalled and quarantined at every location",
    "digest": "the manager's daily digest",
}

#: Every kind `raise_alert` is called with, in the order the API lists them.
ALERT_KINDS: tuple[str, ...] = tuple(DESCRIPTIONS)
