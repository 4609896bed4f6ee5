"""Journeys' hand-written SQL: the outbox's claim and sent-marking, the scheduler's write of
where each enrolment stands, each in one statement, and the nightly move of settled emails into
the archive.

The outbox: claiming due emails and recording the sent ones.

Due rows are found in the narrow queue table (waiting entries in id order, its primary key),
never through an index of the outbox: the outbox's indexes then never change with a status and
both writes of a send are HOT updates. The queue follows the outbox's status through triggers
(migration 0008); only a stale entry is removed here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import connection, transaction
from psycopg import sql

from accounts.models import Contact
from playbooks.models import Journey

from ..models import JourneyEnrolment, JourneySettings, OutboundEmail, OutboundEmailArchive, OutboundStatus
from ..models.outbox import OutboundQueueEntry
from ..sql import render, table


class ClaimedEmail(NamedTuple):
    """A claimed outbox row as the sender needs it: the claim's ``RETURNING`` row, as is.

    Model instances cost more to build than sending the email to a fast backend, and nothing
    here saves the row: every later write is a conditional ``UPDATE`` by id and status.
    """

    id: int
    enrolment_id: int
    step_id: int
    journey_id: int
    account_id: int
    contact_id: int
    to_email: str
    to_name: str
    subject: str
    body_text: str
    body_html: str
    module_code: str
    attempts: int
    status: str

    @property
    def pk(self) -> int:
        return self.id


# Waiting entries past ``after_id`` whose time has come, unless sending is paused (globally or
# for the journey); locked so that concurrent senders skip each other's.
_PICK = sql.SQL("""
    SELECT q.outbound_id FROM {queue} q
    WHERE q.claimed_at IS NULL AND q.outbound_id > %(after_id)s
      AND (q.not_before IS NULL OR q.not_before <= %(now)s)
      AND NOT EXISTS (SELECT 1 FROM {journey_settings} s WHERE s.sending_paused)
      AND q.journey_id NOT IN (SELECT j.id FROM {journeys} j WHERE j.is_paused)
    ORDER BY q.outbound_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
""")
# Only rows still pending move. The contact's opt-out is checked on the chosen rows: a row of a
# contact who unsubscribed or bounced meanwhile is claimed as cancelled, so it cannot block the
# queue. The contact is joined once per row (every row has one) and its refusal read by both
# CASEs; an EXISTS per CASE looked the contact up twice.
_CLAIM = sql.SQL("""
    UPDATE {outbox} AS o SET
        status = CASE WHEN c.refused THEN %(cancelled)s ELSE %(sending)s END,
        detail = CASE WHEN c.refused THEN %(refused_detail)s ELSE o.detail END,
        claim_token = %(claim_token)s, claimed_at = %(now)s, attempts = o.attempts + 1
    FROM (
        SELECT id, (unsubscribed_at IS NOT NULL OR email_opt_out OR bounced_at IS NOT NULL) AS refused
        FROM {contacts}
    ) AS c
    WHERE o.status = %(pending)s AND o.id = ANY(%(ids)s) AND c.id = o.contact_id
    RETURNING o.id, o.enrolment_id, o.step_id, o.journey_id, o.account_id, o.contact_id, o.to_email,
              o.to_name, o.subject, o.body_text, o.body_html, o.module_code, o.attempts, o.status
""")
_FORGET = sql.SQL("DELETE FROM {queue} WHERE outbound_id = ANY(%(ids)s)")
# The pick must read the waiting index in id order and stop after ``limit`` entries. The queue is
# often analysed while (nearly) empty, and when a large batch then arrives the planner, trusting
# those statistics, reads every waiting entry and sorts them for each claim: with 50,000 waiting,
# 60 ms per claim instead of 0.1 ms, and a full drain quadratic in the queue's length. The sort is
# ruled out for the pick alone (the setting is local to the transaction and reset right after),
# in the same round trip as the pick: the three statements are sent as one text.
_ORDERED_PICK = sql.SQL("SET LOCAL enable_sort = off; {pick}; RESET enable_sort")

REFUSED_DETAIL = "The contact unsubscribed or bounced before sending."


def outbound_claim_due(*, limit: int, now: dt.datetime, after_id: int = 0) -> list[ClaimedEmail]:
    """Move up to ``limit`` due rows from pending to sending; return exactly the rows this call
    won, in id order (rows refused by the contact's opt-out become cancelled and are not returned).

    The refusal mirrors ``engagement.journeys.services.contact_problem`` (unsubscribed, opted
    out, bounced; the address itself was checked when the row was queued). SQL because the claim
    must be one conditional ``UPDATE ... WHERE status = 'pending'`` to be safe against concurrent
    senders, and the pick must lock with ``FOR UPDATE SKIP LOCKED``. One transaction: the picked
    entries stay locked until it commits.
    """
    outbox = table(OutboundEmail)
    contacts = table(Contact)
    statements = {
        "queue": table(OutboundQueueEntry),
        "journey_settings": table(JourneySettings),
        "journeys": table(Journey),
        "outbox": outbox,
        "contacts": contacts,
    }
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            render(_ORDERED_PICK.format(pick=_PICK.format(**statements))),
            {"after_id": after_id, "now": now, "limit": limit},
        )
        cursor.nextset()  # past the SET: the pick's rows
        picked = [row[0] for row in cursor.fetchall()]
        if not picked:
            return []
        cursor.execute(
            render(_CLAIM.format(**statements)),
            {
                "ids": picked,
                "now": now,
                "claim_token": uuid.uuid4(),
                "pending": OutboundStatus.PENDING.value,
                "sending": OutboundStatus.SENDING.value,
                "cancelled": OutboundStatus.CANCELLED.value,
                "refused_detail": REFUSED_DETAIL,
            },
        )
        rows = cursor.fetchall()
        stale = sorted(set(picked).difference(row[0] for row in rows))
        if stale:  # no longer pending, its entry left behind: it leaves the queue now
            cursor.execute(render(_FORGET.format(**statements)), {"ids": stale})
    claimed = [ClaimedEmail._make(row) for row in rows if row[-1] == OutboundStatus.SENDING]
    claimed.sort()  # by id: the first field
    return claimed


_MARK_SENT = sql.SQL("""
    UPDATE {outbox} AS o
    SET status = %(sent)s, sent_at = %(now)s, detail = '', next_attempt_at = NULL, message_id = v.message_id
    FROM unnest(%(ids)s::bigint[], %(message_ids)s::text[]) AS v(id, message_id)
    WHERE o.id = v.id AND o.status = %(sending)s
""")


def outbound_mark_sent(*, sent: Sequence[tuple[int, str]], now: dt.datetime) -> None:
    """Record rows still ``sending`` as sent at ``now`` with the backend's message id, given as
    (row id, message id) pairs, in one statement.

    Mirrors ``OutboundEmail.objects.filter(pk=id, status=SENDING).update(status=SENT, sent_at=now,
    detail="", next_attempt_at=None, message_id=message_id)`` per row. SQL because one UPDATE per
    row, or a CASE per row, costs more than sending the emails.
    """
    if not sent:
        return
    params: dict[str, Any] = {
        "ids": [row_id for row_id, _ in sent],
        "message_ids": [message_id for _, message_id in sent],
        "now": now,
        "sent": OutboundStatus.SENT.value,
        "sending": OutboundStatus.SENDING.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(render(_MARK_SENT.format(outbox=table(OutboundEmail))), params)


# The scheduler's write of where each enrolment stands.
_WRITE_PROGRESS = sql.SQL("""
    UPDATE {enrolments} AS e
    SET status = v.status, next_position = v.next_position, next_due_at = v.next_due_at,
        waiting_reason = v.waiting_reason, capped_count = v.capped_count
    FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(positions)s::integer[],
                %(due_ats)s::timestamptz[], %(waiting_reasons)s::text[], %(capped_counts)s::integer[])
         AS v(id, status, next_position, next_due_at, waiting_reason, capped_count)
    WHERE e.id = v.id
""")


def journey_enrolments_write_progress(*, enrolments: Sequence[JourneyEnrolment]) -> None:
    """Write each enrolment's status, next position, due time, wait reason and cap count as they
    stand on the instances, in one statement (nothing else of the row changes).

    Mirrors ``JourneyEnrolment.objects.bulk_update(enrolments, [those fields])``. SQL because
    ``bulk_update`` builds a CASE per column and row and costs more than rendering the emails
    the scheduler queues.
    """
    if not enrolments:
        return
    params: dict[str, Any] = {
        "ids": [e.pk for e in enrolments],
        "statuses": [e.status for e in enrolments],
        "positions": [e.next_position for e in enrolments],
        "due_ats": [e.next_due_at for e in enrolments],
        "waiting_reasons": [e.waiting_reason for e in enrolments],
        "capped_counts": [e.capped_count for e in enrolments],
    }
    with connection.cursor() as cursor:
        cursor.execute(render(_WRITE_PROGRESS.format(enrolments=table(JourneyEnrolment))), params)


# --- The nightly archive of settled emails ------------------------------------------------------

_ARCHIVE_COLUMNS = sql.SQL(
    "id, status, to_email, to_name, subject, body_text, body_html, module_code, detail, attempts, "
    "next_attempt_at, claim_token, created_at, claimed_at, sent_at, message_id, reviewed_at, "
    "account_id, contact_id, enrolment_id, journey_id, reviewed_by_id, step_id"
)
# The outbox rows of one id range that the archive takes: settled, older than the cutoff, and not
# in the senders' queue (a settled row never is; a stale entry is left to the sender to remove).
_ARCHIVABLE = sql.SQL("""
    o.id > %(after_id)s AND o.id <= %(until_id)s
    AND o.status = ANY(%(statuses)s) AND o.created_at < %(before)s
    AND NOT EXISTS (SELECT 1 FROM {queue} q WHERE q.outbound_id = o.id)
""")
_ARCHIVE_RANGE_END = sql.SQL("""
    SELECT max(id), count(*) FROM (
        SELECT id FROM {outbox} WHERE id > %(after_id)s ORDER BY id LIMIT %(limit)s
    ) chunk
""")
# The enrolments of the rows about to move are held (FOR KEY SHARE) until the move commits: a
# scheduler queueing one of them holds it FOR UPDATE, so it queues either before (the row is
# still hot: the outbox's unique constraint) or after (the row is archived: the insert guard).
_ARCHIVE_LOCK_ENROLMENTS = sql.SQL("""
    SELECT e.id FROM {enrolments} e
    WHERE e.id IN (SELECT o.enrolment_id FROM {outbox} o WHERE {archivable})
    ORDER BY e.id FOR KEY SHARE OF e
""")
_ARCHIVE_MOVE = sql.SQL("""
    WITH moved AS (
        DELETE FROM {outbox} o WHERE {archivable}
        RETURNING {columns}
    )
    INSERT INTO {archive} ({columns}, archived_at)
    SELECT {columns}, %(now)s FROM moved
""")


class ArchiveChunk(NamedTuple):
    """One id range of the outbox the archive went through: where it ended, how many rows it
    held, how many of them moved to the archive."""

    until_id: int
    scanned: int
    moved: int


def outbound_archive_chunk(
    *, after_id: int, limit: int, before: dt.datetime, statuses: Sequence[str], now: dt.datetime
) -> ArchiveChunk | None:
    """Move the settled rows created before ``before`` among the next ``limit`` outbox rows past
    ``after_id`` (id order) into the archive, same id and content, stamped ``archived_at = now``;
    None when no row is left past ``after_id``. One transaction: the rows leave the outbox and
    arrive in the archive together.

    Mirrors ``OutboundEmail.objects.filter(pk__in=<the range>, status__in=statuses,
    created_at__lt=before, queue_entry__isnull=True)``: each such row copied to
    ``OutboundEmailArchive`` and deleted. SQL because the move must be one ``DELETE ... RETURNING``
    feeding one ``INSERT``: a night's rows in a few statements, nothing read into Python.
    """
    outbox = table(OutboundEmail)
    archivable = _ARCHIVABLE.format(queue=table(OutboundQueueEntry))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            render(_ARCHIVE_RANGE_END.format(outbox=outbox)), {"after_id": after_id, "limit": limit}
        )
        until_id, scanned = cursor.fetchone()
        if until_id is None:
            return None
        params = {
            "after_id": after_id,
            "until_id": until_id,
            "statuses": list(statuses),
            "before": before,
            "now": now,
        }
        cursor.execute(
            render(
                _ARCHIVE_LOCK_ENROLMENTS.format(
                    enrolments=table(JourneyEnrolment), outbox=outbox, archivable=archivable
                )
            ),
            params,
        )
        cursor.execute(
            render(
                _ARCHIVE_MOVE.format(
                    outbox=outbox,
                    archive=table(OutboundEmailArchive),
                    archivable=archivable,
                    columns=_ARCHIVE_COLUMNS,
                )
            ),
            params,
        )
        moved = cursor.rowcount
    return ArchiveChunk(until_id=until_id, scanned=scanned, moved=moved)
