"""The outbox's queue follows each row's status whoever writes it, one row or many per statement:
pending waits (``not_before`` from ``next_attempt_at``), sending is claimed (keeping
``not_before``), every other status leaves the queue; a write that leaves the status alone
leaves the entry alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from engagement.journeys.sending import outbound_dispatch
from engagement.models import OutboundEmail, OutboundStatus
from engagement.models.outbox import OutboundQueueEntry

from .factories import EnrolmentFactory, OutboundEmailFactory

pytestmark = pytest.mark.django_db


def _queue() -> dict[int, tuple[dt.datetime | None, dt.datetime | None]]:
    return {row.outbound_id: (row.not_before, row.claimed_at) for row in OutboundQueueEntry.objects.all()}


def test_inserts_queue_pending_and_sending_rows_only() -> None:
    later = timezone.now() + dt.timedelta(hours=1)
    claimed = timezone.now() - dt.timedelta(minutes=3)
    pending = OutboundEmailFactory(next_attempt_at=later)
    sending = OutboundEmailFactory(status=OutboundStatus.SENDING, claimed_at=claimed)
    OutboundEmailFactory(status=OutboundStatus.SENT)
    OutboundEmailFactory(status=OutboundStatus.CANCELLED)

    assert _queue() == {pending.pk: (later, None), sending.pk: (None, claimed)}


def test_a_bulk_insert_queues_every_waiting_row_of_the_statement() -> None:
    # Rows as the scheduler writes them: built in memory (their enrolments saved), inserted in one
    # statement.
    rows = [
        OutboundEmailFactory.build(enrolment=EnrolmentFactory(), status=status)
        for status in (
            OutboundStatus.PENDING,
            OutboundStatus.PENDING,
            OutboundStatus.SENDING,
            OutboundStatus.SENT,
        )
    ]
    created = OutboundEmail.objects.bulk_create(rows)

    assert set(_queue()) == {row.pk for row in created[:3]}


def test_one_statement_moving_rows_to_every_status_moves_each_entry() -> None:
    later = timezone.now() + dt.timedelta(hours=2)
    rows = OutboundEmailFactory.create_batch(5, next_attempt_at=later)
    to_sending, to_sent, to_failed, untouched, retried = (row.pk for row in rows)
    claimed = timezone.now()
    OutboundEmail.objects.filter(pk=retried).update(status=OutboundStatus.SENDING, claimed_at=claimed)

    # One UPDATE: two rows claimed, two settled, one back to pending with a new time, one whose
    # status does not move (only its detail changes).
    retry_at = timezone.now() + dt.timedelta(minutes=4)
    OutboundEmail.objects.filter(pk__in=[to_sending, to_sent, to_failed, untouched, retried]).update(
        status=_case(
            {
                to_sending: OutboundStatus.SENDING,
                to_sent: OutboundStatus.SENT,
                to_failed: OutboundStatus.FAILED,
                untouched: OutboundStatus.PENDING,
                retried: OutboundStatus.PENDING,
            }
        ),
        claimed_at=claimed,
        next_attempt_at=retry_at,
        detail="moved",
    )

    assert _queue() == {
        to_sending: (later, claimed),  # claimed: the entry keeps its not_before
        untouched: (later, None),  # the status did not move: the entry is as it was
        retried: (retry_at, None),  # waiting again, from its new time
    }


def test_a_claim_and_its_result_through_the_sender_leave_nothing_queued() -> None:
    OutboundEmailFactory.create_batch(3)
    assert len(_queue()) == 3

    counts = outbound_dispatch()

    assert counts["sent"] == 3 and _queue() == {}
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundStatus.SENT}


def _case(status_by_id: dict[int, str]) -> Case:
    """One ``CASE`` giving each row its own status in a single ``UPDATE``."""
    return Case(
        *(When(pk=pk, then=Value(status)) for pk, status in status_by_id.items()),
        output_field=CharField(),
    )
