"""Webhook services: endpoints (``endpoints``), recording events (``events``), sending (``sending``)."""

from .endpoints import webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_update
from .events import webhook_events_record
from .sending import deliveries_recover_stuck, webhook_delivery_redeliver, webhooks_deliver

__all__ = [
    "deliveries_recover_stuck",
    "webhook_delivery_redeliver",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_update",
    "webhook_events_record",
    "webhooks_deliver",
]
