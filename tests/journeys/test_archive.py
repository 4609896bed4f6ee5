"""The nightly archive of settled journey emails: what moves, exactly-once across the outbox and
the archive, provider reports and pages that still find archived emails, and the sender's query
count whatever the outbox holds."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from accounts.models import Account, Contact
from engagement.journeys.archive import outbound_archive_settled
from engagement.journeys.jobs import journeys_archive_settled
from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import outbound_dispatch
from engagement.journeys.services import enrolment_start_for_account
from engagement.models import (
    ARCHIVE_AFTER,
    EmailEvent,
    EnrolmentStatus,
    JourneyEnrolment,
    OutboundEmail,
    OutboundEmailArchive,
    OutboundEmailRecord,
    OutboundStatus,
    StopReason,
)
from tests.factories import ContactFactory

from .conftest import TUESDAY_10_BERLIN
from .factories import OutboundEmailFactory

pytestmark = pytest.mark.django_db

NOW = TUESDAY_10_BERLIN
OLD = NOW - ARCHIVE_AFTER - dt.timedelta(days=1)
RECENT = NOW - ARCHIVE_AFTER + dt.timedelta(days=1)
SECRET = "postmark:tr4cking-s3cret"


def _email(journey, contact, position: int, *, status: str, created_at: dt.datetime, **fields):
    return OutboundEmailFactory(
        enrolment__journey=journey,
        enrolment__contact=contact,
        enrolment__account=contact.account,
        step=journey.steps.get(position=position),
        status=status,
        created_at=created_at,
        **fields,
    )


def _sent_and_archived(journey, contact, **fields) -> OutboundEmail:
    email = _email(
        journey,
        contact,
        1,
        status=OutboundStatus.SENT,
        created_at=OLD,
        sent_at=OLD,
        subject="Welcome Jordan",
        message_id="pm-0001",
        **fields,
    )
    assert outbound_archive_settled(now=NOW)["moved"] == 1
    return email


def test_the_archive_moves_exactly_the_old_settled_rows(account, journey):
    contacts = ContactFactory.create_batch(7, account=account)
    moving = {
        _email(journey, contacts[0], 1, status=OutboundStatus.SENT, created_at=OLD, message_id="m-1").pk,
        _email(journey, contacts[1], 1, status=OutboundStatus.FAILED, created_at=OLD, detail="refused").pk,
        _email(journey, contacts[2], 1, status=OutboundStatus.SKIPPED, created_at=OLD).pk,
        _email(journey, contacts[3], 1, status=OutboundStatus.CANCELLED, created_at=OLD).pk,
    }
    staying = {
        _email(journey, contacts[4], 1, status=OutboundStatus.PENDING, created_at=OLD).pk,
        _email(journey, contacts[5], 1, status=OutboundStatus.SENDING, created_at=OLD, claimed_at=OLD).pk,
        _email(journey, contacts[6], 1, status=OutboundStatus.SENT, created_at=RECENT).pk,
    }
    before = {row["id"]: row for row in OutboundEmail.objects.values()}

    counts = outbound_archive_settled(now=NOW, chunk_size=2)  # several id ranges

    assert counts == {"scanned": 7, "moved": 4}
    assert set(OutboundEmail.objects.values_list("id", flat=True)) == staying
    archived = {row["id"]: row for row in OutboundEmailArchive.objects.values()}
    assert set(archived) == moving
    for pk in moving:  # same id, same content, stamped
        assert {**archived[pk], "archived_at": None} == {**before[pk], "archived_at": None}
        assert archived[pk]["archived_at"] == NOW
    # Pending and in-flight rows keep their places in the senders' queue.
    assert set(OutboundEmail.objects.filter(queue_entry__isnull=False).values_list("id", flat=True)) == {
        pk for pk in staying if before[pk]["status"] != OutboundStatus.SENT
    }
    # Every email is still there to read, once.
    records = dict(OutboundEmailRecord.objects.values_list("id", "archived"))
    assert records == {pk: pk in moving for pk in moving | staying}
    assert outbound_archive_settled(now=NOW) == {"scanned": 3, "moved": 0}


def test_the_archive_keeps_the_emails_the_frequency_cap_counts():
    with pytest.raises(ValueError, match="frequency cap"):
        outbound_archive_settled(now=NOW, older_than=dt.timedelta(days=7))


def test_the_nightly_job_is_scheduled_and_runs_once_a_night(account, contact, journey):
    task = PeriodicTask.objects.get(task="engagement.journeys_archive_settled")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("4", "45")
    _email(journey, contact, 1, status=OutboundStatus.SENT, created_at=OLD)
    with time_machine.travel(NOW, tick=False):
        assert journeys_archive_settled() == {"scanned": 1, "moved": 1}
        assert journeys_archive_settled() == {}
    assert OutboundEmailArchive.objects.count() == 1 and not OutboundEmail.objects.exists()


def test_a_step_due_again_after_its_email_was_archived_is_not_sent_again(account, contact, journey):
    with time_machine.travel(NOW, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=NOW)
        outbound_dispatch()
    assert len(mail.outbox) == 1
    later = NOW + ARCHIVE_AFTER + dt.timedelta(days=1)
    assert outbound_archive_settled(now=later)["moved"] == 1
    # Whatever sets the enrolment back (a repair, a replan), its first step is due again.
    enrolment = JourneyEnrolment.objects.get()
    JourneyEnrolment.objects.filter(pk=enrolment.pk).update(
        status=EnrolmentStatus.ACTIVE, next_position=1, next_due_at=later, waiting_reason=""
    )
    mail.outbox = []
    with time_machine.travel(later, tick=False):
        journey_due_steps_schedule(now=later)
        outbound_dispatch()

    assert mail.outbox == []
    step_1 = journey.steps.get(position=1)
    assert not OutboundEmail.objects.filter(step=step_1).exists()
    assert OutboundEmailRecord.objects.filter(enrolment=enrolment, step=step_1).count() == 1
    enrolment.refresh_from_db()
    assert enrolment.next_position == 2  # it moved on, as after any step already in the outbox


def _post_report(client, email, record_type, fields):
    payload = {
        "RecordType": record_type,
        "MessageID": email.message_id,
        "Recipient": email.to_email,
        "Metadata": {"outbound_id": str(email.pk)},
        **fields,
    }
    credentials = "Basic " + base64.b64encode(SECRET.encode()).decode()
    return client.post(
        "/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=credentials,
    )


def test_a_report_about_an_archived_email_is_recorded_and_acted_on(client, settings, lena, contact, journey):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    email = _sent_and_archived(journey, contact)
    ContactFactory(account=contact.account, email=contact.email.upper())  # same address, other person

    opened = _post_report(client, email, "Open", {"ReceivedAt": "2026-11-24T10:30:00Z"})
    bounced = _post_report(
        client,
        email,
        "Bounce",
        {"ID": 42, "Type": "HardBounce", "Email": email.to_email, "Description": "No such mailbox."},
    )

    assert opened.status_code == bounced.status_code == 200
    events = list(
        EmailEvent.objects.order_by("kind").values_list("kind", "outbound_id", "journey_id", "contact_id")
    )
    assert events == [
        ("bounced", email.pk, journey.pk, contact.pk),
        ("opened", email.pk, journey.pk, contact.pk),
    ]
    # The bounce ended this contact's enrolment only, found through the archived email.
    assert Contact.objects.filter(bounced_at__isnull=False).get() == contact
    assert JourneyEnrolment.objects.get(contact=contact).stop_reason == StopReason.BOUNCED
    client.force_login(lena)
    results = client.get(reverse("journeys:results", args=[journey.pk])).context["results"]
    assert results.steps[0].reported["opened"] == 1 and results.steps[0].reported["bounced"] == 1


def test_pages_show_archived_emails_in_a_fixed_number_of_queries(
    client, alice, lena, django_assert_num_queries, account, contact, journey
):
    _sent_and_archived(journey, contact)
    OutboundEmailFactory(
        enrolment=JourneyEnrolment.objects.get(contact=contact),
        step=journey.steps.get(position=2),
        status=OutboundStatus.SENT,
        created_at=RECENT,
        subject="Invite your team",
    )
    client.force_login(alice)

    with django_assert_num_queries(ACCOUNT_JOURNEYS_QUERIES):
        section = client.get(reverse("journeys:account-journeys", args=[account.pk]), HTTP_HX_REQUEST="true")
    assert [row.subject for row in section.context["emails"]] == ["Invite your team", "Welcome Jordan"]
    with django_assert_num_queries(TIMELINE_QUERIES):
        timeline = client.get(reverse("engagement:account-timeline", args=[account.pk])).content.decode()
    assert "“Welcome Jordan”" in timeline and "“Invite your team”" in timeline

    client.force_login(lena)
    with django_assert_num_queries(RESULTS_QUERIES):
        results = client.get(reverse("journeys:results", args=[journey.pk])).context["results"]
    assert [step.counts["sent"] for step in results.steps] == [1, 1, 0]
    with django_assert_num_queries(LIST_QUERIES):
        listing = client.get(reverse("journeys:list"))
    assert next(r for r in listing.context["overview"] if r.journey == journey).counts["sent"] == 2


# The same as with an empty archive: every list reads the outbox and its archive in one query.
ACCOUNT_JOURNEYS_QUERIES = 15
TIMELINE_QUERIES = 13
RESULTS_QUERIES = 12
LIST_QUERIES = 8


def test_deleting_an_account_deletes_its_archived_emails(account, contact, journey):
    _sent_and_archived(journey, contact)
    Account.objects.filter(pk=account.pk).delete()
    assert not OutboundEmailArchive.objects.exists() and not OutboundEmailRecord.objects.exists()


def _dispatch_queries(django_assert_num_queries, *, rows: int, batch_size: int, expected: int) -> None:
    OutboundEmailFactory.create_batch(rows)
    mail.outbox = []
    with django_assert_num_queries(expected):
        counts = outbound_dispatch(batch_size=batch_size)
    assert counts["sent"] == rows == len(mail.outbox)


@pytest.mark.parametrize(("rows", "batch_size"), [(4, 2), (40, 20)])
def test_the_sender_costs_the_same_queries_per_batch_whatever_the_archive_holds(
    django_assert_num_queries, account, contact, journey, rows, batch_size
):
    for _ in range(3):  # an archive that grows does not change what the sender reads
        _sent_and_archived(journey, ContactFactory(account=account))
    _dispatch_queries(django_assert_num_queries, rows=rows, batch_size=batch_size, expected=DISPATCH_QUERIES)


# Two batches and the final empty pass, whatever the rows per batch: the claim and the record are
# set-based, nothing is read per email.
DISPATCH_QUERIES = 20
