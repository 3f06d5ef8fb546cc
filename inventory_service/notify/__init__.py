"""Alert channels: email (SMTP), webhook (signed JSON POST), MQTT (`alerts/<kind>`).

Each channel sends one message to one recipient and raises `DeliveryError` with a reason on failure;
retries, backoff and bookkeeping belong to services.delivery.
"""

from .channels import Channels, DeliveryError, Message

__all__ = ["Channels", "DeliveryError", "Message"]
