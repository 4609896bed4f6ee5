"""The nightly archive of settled journey emails: the outbox keeps what is in flight and the last
``ARCHIVE_AFTER`` of settled rows, so the tables the senders read and write stay the size of that
window however many years of email lie behind them.

Archived rows keep their id and content (``OutboundEmailArchive``) and every reader of the past
reads both tables through ``OutboundEmailRecord``; the guarantees that rest on the outbox (one
email per enrolment and step, reports matched by id) hold across both (``models.outbox_archive``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.utils import timezone

from ..models import ARCHIVE_AFTER, SETTLED_STATUSES
from .queries import outbound_archive_chunk
from .schedule import CAP_WINDOW

# Outbox rows gone through per transaction: a few seconds of work, locks held briefly.
ARCHIVE_CHUNK_SIZE = 10_000


def outbound_archive_settled(
    *,
    now: dt.datetime | None = None,
    older_than: dt.timedelta = ARCHIVE_AFTER,
    chunk_size: int = ARCHIVE_CHUNK_SIZE,
) -> Counter:
    """Move every settled outbox row (sent, failed, skipped, cancelled) created more than
    ``older_than`` ago into the archive, one id range per transaction. Safe to run twice or
    alongside the senders: what moved is gone from the outbox, and rows pending or in flight
    never move. Returns ``moved`` and ``scanned`` counts."""
    if older_than <= CAP_WINDOW:
        # The frequency cap counts the last week's emails in the outbox alone.
        raise ValueError(f"Emails younger than {CAP_WINDOW} count towards the frequency cap: keep them.")
    now = now or timezone.now()
    before = now - older_than
    counts: Counter = Counter()
    after_id = 0
    statuses = [status.value for status in SETTLED_STATUSES]
    while True:
        chunk = outbound_archive_chunk(
            after_id=after_id, limit=chunk_size, before=before, statuses=statuses, now=now
        )
        if chunk is None:
            return counts
        counts["scanned"] += chunk.scanned
        counts["moved"] += chunk.moved
        after_id = chunk.until_id
