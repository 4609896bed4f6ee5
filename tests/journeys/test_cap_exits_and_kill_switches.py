"""Frequency cap across journeys, exits (tier change, bounce, CSM stop), journey and global kill switches."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from accounts.models import Account
from csplatform import dispatch
from csplatform.models import PendingDispatch
from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import outbound_dispatch
from engagement.journeys.services import (
    contact_bounced,
    enrolment_start_for_account,
    journey_settings,
)
from engagement.models import (
    EnrolmentStatus,
    JourneyEnrolment,
    JourneySettings,
    OutboundEmail,
    OutboundStatus,
)
from segmentation.signals import tier_changed

from .conftest import TUESDAY_10_BERLIN
from .factories import JourneyFactory, JourneyStepFactory

pytestmark = pytest.mark.django_db


def send_due(now: dt.datetime) -> None:
    with time_machine.travel(now, tick=False):
        journey_due_steps_schedule(now=now)
        outbound_dispatch()


def one_step_journey(code: str, *, subject: str, tier: str = "MM3"):
    journey = JourneyFactory(code=code, tier_code=tier)
    JourneyStepFactory(journey=journey, position=1, delay_from="enrolment", subject_template=subject)
    return journey


def enrol(account, *codes: str, at: dt.datetime = TUESDAY_10_BERLIN) -> None:
    with time_machine.travel(at, tick=False):
        for code in codes:
            enrolment_start_for_account(journey_code=code, account_id=account.pk, source="test")


def test_the_frequency_cap_holds_across_journeys_and_the_capped_step_waits_for_the_next_slot(
    account, contact
):
    for name in ("a", "b", "c"):
        one_step_journey(name, subject=f"Journey {name}")
    enrol(account, "a", "b", "c")
    send_due(TUESDAY_10_BERLIN)

    assert sorted(m.subject for m in mail.outbox) == ["Journey a", "Journey b"]
    capped = JourneyEnrolment.objects.get(journey__code="c")
    assert capped.capped_count == 1
    # The slot frees 7 days after the first of the two emails, at 10:00 Berlin time.
    assert capped.next_due_at == TUESDAY_10_BERLIN + dt.timedelta(days=7)
    assert capped.waiting_reason.startswith("Frequency cap: 2 automated emails to this contact in 7 days")
    assert "Tue 01 Dec 10:00 CET" in capped.waiting_reason

    send_due(TUESDAY_10_BERLIN + dt.timedelta(days=6, hours=23))
    assert len(mail.outbox) == 2
    send_due(TUESDAY_10_BERLIN + dt.timedelta(days=7))
    assert sorted(m.subject for m in mail.outbox) == ["Journey a", "Journey b", "Journey c"]


def test_the_cap_is_a_setting(account, contact):
    JourneySettings.objects.update_or_create(pk=1, defaults={"weekly_cap": 1})
    one_step_journey("a", subject="A")
    one_step_journey("b", subject="B")
    enrol(account, "a", "b")
    send_due(TUESDAY_10_BERLIN)

    assert len(mail.outbox) == 1


def test_the_account_leaving_the_journeys_tier_stops_its_enrolments(
    account, contact, journey, django_capture_on_commit_callbacks
):
    other = one_step_journey("any-tier", subject="Any", tier="")
    JourneyStepFactory(journey=other, position=2, delay_days=1)
    enrol(account, "welcome", "any-tier")

    with django_capture_on_commit_callbacks(execute=True):  # the receiver queues a task
        tier_changed.send(
            sender=None, account_id=account.pk, from_code="MM3", to_code="MM1", source="review", change_id=1
        )

    stopped = JourneyEnrolment.objects.get(journey=journey)
    assert stopped.status == EnrolmentStatus.STOPPED and stopped.stop_reason == "tier_left"
    assert JourneyEnrolment.objects.get(journey=other).status == EnrolmentStatus.ACTIVE
    send_due(TUESDAY_10_BERLIN)
    assert [m.subject for m in mail.outbox] == ["Any"]


def test_a_tier_change_that_keeps_the_tier_keeps_the_enrolment(account, contact, journey):
    enrol(account, "welcome")
    tier_changed.send(
        sender=None, account_id=account.pk, from_code="MM2", to_code="MM3", source="review", change_id=1
    )
    # Only the journey exit the receiver queued (the MM3 playbooks would enrol in more journeys).
    for pending in PendingDispatch.objects.filter(task_name="engagement.journeys_stop_for_tier_change"):
        dispatch.publish(pending.pk)
    assert JourneyEnrolment.objects.get().status == EnrolmentStatus.ACTIVE


def test_a_bounce_stops_the_contacts_enrolments(account, contact, journey):
    enrol(account, "welcome")
    contact_bounced(contact_id=contact.pk)
    send_due(TUESDAY_10_BERLIN)

    assert mail.outbox == []
    assert JourneyEnrolment.objects.get().stop_reason == "bounced"


def test_a_paused_journey_schedules_and_sends_nothing_until_resumed(account, contact, journey):
    enrol(account, "welcome")
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)  # queued before the pause
    journey.is_paused = True
    journey.save()
    send_due(TUESDAY_10_BERLIN + dt.timedelta(days=3))

    assert mail.outbox == []
    assert OutboundEmail.objects.get().status == OutboundStatus.PENDING

    journey.is_paused = False
    journey.save()
    send_due(TUESDAY_10_BERLIN + dt.timedelta(days=3))
    assert len(mail.outbox) == 2  # the queued welcome, then the step that came due meanwhile


def test_the_global_kill_switch_stops_all_sending_at_once(account, contact, journey):
    enrol(account, "welcome")
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
    config = journey_settings()
    config.sending_paused = True
    config.save()

    assert outbound_dispatch()["globally_paused"] == 1
    assert journey_due_steps_schedule(now=TUESDAY_10_BERLIN + dt.timedelta(days=4))["globally_paused"] == 1
    assert mail.outbox == []
    assert OutboundEmail.objects.get().status == OutboundStatus.PENDING


def test_entering_the_digital_tier_enrols_the_contacts_in_digital_onboarding(
    account, contact, django_capture_on_commit_callbacks
):
    # The default MM3 playbook's "enrol in journey" step, started by a tier change.
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        tier_changed.send(
            sender=None, account_id=account.pk, from_code="MM2", to_code="MM3", source="event", change_id=99
        )
    enrolment = JourneyEnrolment.objects.get(contact=contact)
    assert (
        enrolment.journey.code == "digital-onboarding"
        and enrolment.source == "playbook:mm3-digital-onboarding"
    )

    send_due(TUESDAY_10_BERLIN)
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Welcome, Jordan: your first 30 minutes"


def test_leaving_the_digital_tier_stops_digital_onboarding_even_when_the_enrolment_runs_late(
    account, contact, django_capture_on_commit_callbacks
):
    # Segmentation moves the account on before the enrolment task of the first change has run.
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        tier_changed.send(
            sender=None, account_id=account.pk, from_code="MM2", to_code="MM3", source="event", change_id=99
        )
        Account.objects.filter(pk=account.pk).update(tier_code="MM1")
        tier_changed.send(
            sender=None, account_id=account.pk, from_code="MM3", to_code="MM1", source="event", change_id=100
        )
    send_due(TUESDAY_10_BERLIN)

    assert mail.outbox == []
    assert not JourneyEnrolment.objects.filter(contact=contact, status=EnrolmentStatus.ACTIVE).exists()


def test_an_enrolment_whose_account_left_the_tier_is_stopped_when_due(account, contact, journey):
    enrol(account, "welcome")
    Account.objects.filter(pk=account.pk).update(tier_code="MM1")  # the signal was lost
    send_due(TUESDAY_10_BERLIN)

    assert mail.outbox == []
    assert JourneyEnrolment.objects.get().stop_reason == "tier_left"
