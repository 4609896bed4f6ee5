from __future__ import annotations

import logging

from django.db import connection

from .queries import database_round_trip

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        connection.ensure_connection()
        database_round_trip()
        return True
    except Exception as exc:
        logger.warning("database health check failed: %s", exc)
        return False


def broker_ok(timeout: int = 2) -> bool:
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            if conn.transport_cls == "filesystem" or conn.transport.driver_type == "filesystem":
                return True
            channel = conn.default_channel
            # A channel can be opened from a cached connection; only a round trip proves the
            # broker answers now (Redis: PING).
            client = getattr(channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()
        return True
    except Exception as exc:
        logger.warning("broker health check failed: %s", exc)
        return False
