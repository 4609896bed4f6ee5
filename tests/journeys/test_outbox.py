"""The outbox: claim before send, exactly one row per (enrolment, step), retries, failures, review."""

from __future__ import annotations

import datetime as dt
import smtplib
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import STUCK_AFTER, outbound_claim, outbound_dispatch, outbound_stuck
from engagement.journeys.services import enrolment_start_for_account
from engagement.models import ModuleDelivery, OutboundEmail, OutboundStatus

from .conftest import TUESDAY_10_BERLIN
from .factories import OutboundEmailFactory

pytestmark = pytest.mark.django_db


class FailingBackend(EmailBackend):
    """Raises ``error`` for every message (set on the class by a test)."""

    error: Exception = ConnectionError("connection reset")

    def send_messages(self, messages: Any) -> int:
        raise self.error


def test_running_the_scheduler_twice_creates_one_row_per_enrolment_and_step(account, contact, journey):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
    assert OutboundEmail.objects.count() == 1


def test_a_row_is_claimed_by_exactly_one_sender():
    OutboundEmailFactory.create_batch(3)
    first = outbound_claim(limit=10)
    second = outbound_claim(limit=10)

    assert len(first) == 3 and second == []
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundStatus.SENDING}


def test_a_sender_sends_only_rows_still_pending():
    sent_already = OutboundEmailFactory(status=OutboundStatus.SENT)
    OutboundEmailFactory(status=OutboundStatus.SENDING)
    pending = OutboundEmailFactory()

    outbound_dispatch()

    assert len(mail.outbox) == 1 and mail.outbox[0].to[0].endswith(f"<{pending.to_email}>")
    sent_already.refresh_from_db()
    assert sent_already.status == OutboundStatus.SENT


def test_a_sent_row_records_the_backends_message_id():
    row = OutboundEmailFactory()
    outbound_dispatch()
    row.refresh_from_db()

    assert row.status == OutboundStatus.SENT and row.sent_at is not None
    assert row.message_id == mail.outbox[0].extra_headers["Message-ID"]
    assert row.message_id.startswith("<") and f"journey{row.pk}" in row.message_id


def test_a_transient_failure_is_retried_with_backoff(settings):
    settings.EMAIL_BACKEND = "tests.journeys.test_outbox.FailingBackend"
    FailingBackend.error = ConnectionError("connection reset")
    row = OutboundEmailFactory()
    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert outbound_dispatch()["retrying"] == 1
    row.refresh_from_db()
    assert row.status == OutboundStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at == start + dt.timedelta(minutes=1)
    assert "connection reset" in row.detail

    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        assert outbound_dispatch()["retrying"] == 0  # not due yet
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        outbound_dispatch()
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at == start + dt.timedelta(minutes=3)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(start + dt.timedelta(minutes=3), tick=False):
        outbound_dispatch()
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT and len(mail.outbox) == 1


def test_transient_failures_give_up_after_the_last_attempt(settings):
    settings.EMAIL_BACKEND = "tests.journeys.test_outbox.FailingBackend"
    FailingBackend.error = ConnectionError("connection reset")
    row = OutboundEmailFactory(attempts=4)
    outbound_dispatch()
    row.refresh_from_db()
    assert row.status == OutboundStatus.FAILED and row.attempts == 5


def test_a_permanent_failure_is_failed_with_the_error(settings):
    settings.EMAIL_BACKEND = "tests.journeys.test_outbox.FailingBackend"
    FailingBackend.error = smtplib.SMTPRecipientsRefused({"x@y.example": (550, b"no such user")})
    row = OutboundEmailFactory()
    outbound_dispatch()
    row.refresh_from_db()
    assert row.status == OutboundStatus.FAILED and "SMTPRecipientsRefused" in row.detail
    assert row.next_attempt_at is None


def test_a_row_stuck_in_sending_is_listed_for_review_and_never_resent():
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    stuck = OutboundEmailFactory(
        status=OutboundStatus.SENDING, claimed_at=now - STUCK_AFTER - dt.timedelta(1)
    )
    in_flight = OutboundEmailFactory(status=OutboundStatus.SENDING, claimed_at=now)
    with time_machine.travel(now, tick=False):
        outbound_dispatch()
        assert list(outbound_stuck()) == [stuck]
    assert mail.outbox == []
    in_flight.refresh_from_db()
    assert in_flight.status == OutboundStatus.SENDING


def test_a_sent_step_that_delivers_a_module_counts_as_coverage(account, contact, journey):
    journey.steps.filter(position=1).update(module_code="onboarding_emails")
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
        outbound_dispatch()

    row = OutboundEmail.objects.get()
    delivery = ModuleDelivery.objects.get()
    assert (delivery.account_id, delivery.module.code, delivery.source, delivery.source_id) == (
        account.pk,
        "onboarding_emails",
        "email",
        row.pk,
    )


def test_the_minute_tick_schedules_and_sends_once_per_minute(
    account, contact, journey, django_capture_on_commit_callbacks
):
    from engagement.journeys.jobs import journeys_tick

    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        with django_capture_on_commit_callbacks(execute=True):
            first = journeys_tick.apply().get()
        with django_capture_on_commit_callbacks(execute=True):
            second = journeys_tick.apply().get()

    assert first == {"queued": 1} and second == {}
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get().status == OutboundStatus.SENT


def test_sent_rows_record_their_modules_in_one_batch_and_skip_an_unknown_module(caplog):
    known = OutboundEmailFactory.create_batch(2, module_code="onboarding_emails")
    unknown = OutboundEmailFactory(module_code="no_such_module")

    outbound_dispatch()

    recorded = set(ModuleDelivery.objects.values_list("source", "source_id", "module__code"))
    assert recorded == {("email", row.pk, "onboarding_emails") for row in known}
    assert f"journey email {unknown.pk}: module no_such_module not recorded" in caplog.text
    assert OutboundEmail.objects.filter(status=OutboundStatus.SENT).count() == 3


def test_a_claim_leaves_the_planner_settings_as_they_were():
    from django.db import connection, transaction

    OutboundEmailFactory.create_batch(2)
    with transaction.atomic(), connection.cursor() as cursor:
        assert len(outbound_claim(limit=10)) == 2
        cursor.execute("SELECT current_setting('enable_sort')")
        assert cursor.fetchone() == ("on",)
