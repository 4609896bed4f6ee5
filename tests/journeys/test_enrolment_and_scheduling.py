"""Enrolment, step timing (time zones, DST), send windows, skip conditions and the outbox."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import outbound_dispatch
from engagement.journeys.services import enrolment_start_for_account
from engagement.models import EnrolmentStatus, JourneyEnrolment, OutboundEmail, OutboundStatus
from tests.factories import ContactFactory, UsageSnapshotFactory

from .conftest import TUESDAY_10_BERLIN
from .factories import JourneyFactory, JourneyStepFactory

pytestmark = pytest.mark.django_db


def run_journeys(now: dt.datetime) -> None:
    with time_machine.travel(now, tick=False):
        journey_due_steps_schedule(now=now)
        outbound_dispatch()


def test_enrolling_an_account_enrols_only_mailable_contacts(account, contact, journey):
    ContactFactory(account=account, email_opt_out=True)
    ContactFactory(account=account, unsubscribed_at=TUESDAY_10_BERLIN)
    ContactFactory(account=account, bounced_at=TUESDAY_10_BERLIN)
    ContactFactory(account=account, email="not-an-address")

    enrolled = enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="playbook:1")

    assert enrolled == 1
    assert list(JourneyEnrolment.objects.values_list("contact_id", flat=True)) == [contact.pk]


def test_enrolling_twice_never_enrols_twice(account, contact, journey):
    assert enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="a") == 1
    assert enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="b") == 0
    assert JourneyEnrolment.objects.count() == 1


def test_the_first_step_is_sent_with_its_placeholders_filled(account, contact, journey):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
    run_journeys(TUESDAY_10_BERLIN)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Welcome Jordan"
    assert message.to == ["Jordan Miller <jordan@northwind.example>"]
    assert "Hi Jordan Miller," in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Hi Jordan Miller," in html
    row = OutboundEmail.objects.get()
    assert row.status == OutboundStatus.SENT and row.message_id == message.extra_headers["Message-ID"]
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.next_position == 2
    assert enrolment.next_due_at == TUESDAY_10_BERLIN + dt.timedelta(days=3)


def test_each_step_is_sent_once_and_the_enrolment_completes(account, contact, journey):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
    moment = TUESDAY_10_BERLIN
    for _ in range(30):  # a month of minutes that matter: run every 12 hours, twice each time
        run_journeys(moment)
        run_journeys(moment)
        moment += dt.timedelta(hours=12)

    assert [m.subject for m in mail.outbox] == [
        "Welcome Jordan",
        "Invite your team at Northwind Retail",
        "Learn at your own pace",
    ]
    assert JourneyEnrolment.objects.get().status == EnrolmentStatus.COMPLETED


def test_a_step_waits_for_the_send_window_in_the_contacts_time_zone(account, journey):
    # 09:00 UTC is 01:00 in Los Angeles: the window (09:00–17:00 local) opens at 17:00 UTC.
    ContactFactory(account=account, time_zone="America/Los_Angeles")
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
    run_journeys(TUESDAY_10_BERLIN)

    assert mail.outbox == []
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.next_due_at == dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    assert "Outside the send window (09:00–17:00 America/Los_Angeles)" in enrolment.waiting_reason

    run_journeys(dt.datetime(2026, 11, 24, 16, 59, tzinfo=dt.UTC))
    assert mail.outbox == []
    run_journeys(dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC))
    assert len(mail.outbox) == 1


def test_the_account_region_decides_when_the_contact_has_no_time_zone(alice):
    from tests.factories import AccountFactory

    account = AccountFactory(region="APAC", csm=alice, tier_code="MM3")  # Asia/Singapore, UTC+8
    ContactFactory(account=account, time_zone="")
    journey = JourneyFactory(code="apac")
    JourneyStepFactory(journey=journey, position=1, delay_from="enrolment")
    evening_in_singapore = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)  # 20:00 in Singapore
    with time_machine.travel(evening_in_singapore, tick=False):
        enrolment_start_for_account(journey_code="apac", account_id=account.pk, source="test")
    run_journeys(evening_in_singapore)

    assert mail.outbox == []
    # Next opening: Wednesday 09:00 in Singapore = 01:00 UTC.
    assert JourneyEnrolment.objects.get().next_due_at == dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)


def test_weekends_are_skipped_unless_the_journey_sends_on_weekends(account, contact):
    saturday_noon_berlin = dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC)
    weekday = JourneyFactory(code="weekdays", send_on_weekends=False)
    JourneyStepFactory(journey=weekday, position=1, delay_from="enrolment")
    weekend = JourneyFactory(code="weekends", send_on_weekends=True)
    JourneyStepFactory(journey=weekend, position=1, delay_from="enrolment")
    with time_machine.travel(saturday_noon_berlin, tick=False):
        enrolment_start_for_account(journey_code="weekdays", account_id=contact.account_id, source="t")
        enrolment_start_for_account(journey_code="weekends", account_id=contact.account_id, source="t")
    run_journeys(saturday_noon_berlin)

    assert [row.journey.code for row in OutboundEmail.objects.all()] == ["weekends"]
    monday_9_berlin = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    assert JourneyEnrolment.objects.get(journey=weekday).next_due_at == monday_9_berlin


def test_a_seven_day_delay_keeps_the_local_time_across_the_dst_change(account):
    # Berlin leaves summer time on Sunday 25 October 2026: 10:00 CEST is 08:00 UTC, 10:00 CET 09:00 UTC.
    ContactFactory(account=account, time_zone="Europe/Berlin")
    journey = JourneyFactory(code="dst")
    JourneyStepFactory(journey=journey, position=1, delay_from="enrolment")
    JourneyStepFactory(journey=journey, position=2, delay_days=7)
    thursday_10_cest = dt.datetime(2026, 10, 22, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(thursday_10_cest, tick=False):
        enrolment_start_for_account(journey_code="dst", account_id=account.pk, source="test")
    run_journeys(thursday_10_cest)

    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.next_due_at == dt.datetime(2026, 10, 29, 9, 0, tzinfo=dt.UTC)  # 10:00 CET
    run_journeys(dt.datetime(2026, 10, 29, 8, 59, tzinfo=dt.UTC))
    assert len(mail.outbox) == 1
    run_journeys(dt.datetime(2026, 10, 29, 9, 0, tzinfo=dt.UTC))
    assert len(mail.outbox) == 2


def test_a_delay_in_hours_counts_elapsed_hours_across_the_us_dst_change(alice):
    from tests.factories import AccountFactory

    account = AccountFactory(region="Americas", csm=alice, tier_code="MM3")
    ContactFactory(account=account, time_zone="America/New_York")
    journey = JourneyFactory(
        code="hours", send_on_weekends=True, send_window_start=dt.time(0, 0), send_window_end=dt.time(23, 59)
    )
    JourneyStepFactory(journey=journey, position=1, delay_from="enrolment")
    JourneyStepFactory(journey=journey, position=2, delay_hours=24)
    # New York leaves summer time on Sunday 1 November 2026 at 02:00.
    saturday_noon_edt = dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)
    with time_machine.travel(saturday_noon_edt, tick=False):
        enrolment_start_for_account(journey_code="hours", account_id=account.pk, source="test")
    run_journeys(saturday_noon_edt)

    # 24 elapsed hours later: 16:00 UTC on Sunday, which is 11:00 EST.
    assert JourneyEnrolment.objects.get().next_due_at == dt.datetime(2026, 11, 1, 16, 0, tzinfo=dt.UTC)


def test_a_step_is_skipped_when_its_condition_holds(account, contact):
    UsageSnapshotFactory(account=account, active_users=45, licensed_seats=50)  # 90% of seats used
    journey = JourneyFactory(code="skip")
    JourneyStepFactory(
        journey=journey,
        position=1,
        delay_from="enrolment",
        subject_template="Invite your team",
        skip_condition="seat_utilisation >= 0.6",
    )
    JourneyStepFactory(journey=journey, position=2, subject_template="Academy")
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="skip", account_id=account.pk, source="test")
    run_journeys(TUESDAY_10_BERLIN)

    assert [m.subject for m in mail.outbox] == ["Academy"]
    skipped = OutboundEmail.objects.get(step__position=1)
    assert skipped.status == OutboundStatus.SKIPPED
    assert "seat_utilisation >= 0.6" in skipped.detail


def test_a_step_is_sent_when_its_condition_does_not_hold(account, contact):
    UsageSnapshotFactory(account=account, active_users=10, licensed_seats=50)
    journey = JourneyFactory(code="noskip")
    JourneyStepFactory(
        journey=journey,
        position=1,
        delay_from="enrolment",
        subject_template="Invite your team",
        skip_condition="seat_utilisation >= 0.6",
    )
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="noskip", account_id=account.pk, source="test")
    run_journeys(TUESDAY_10_BERLIN)

    assert [m.subject for m in mail.outbox] == ["Invite your team"]


def test_an_invalid_address_is_skipped_reported_and_never_sent(account, journey):
    bad = ContactFactory(account=account, email="jordan@northwind.example")
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
    # The CRM later writes a broken address.
    type(bad).objects.filter(pk=bad.pk).update(email="jordan at northwind")
    run_journeys(TUESDAY_10_BERLIN)

    assert mail.outbox == []
    row = OutboundEmail.objects.get()
    assert row.status == OutboundStatus.SKIPPED and "Invalid email address" in row.detail
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.STOPPED and enrolment.stop_reason == "invalid_address"
