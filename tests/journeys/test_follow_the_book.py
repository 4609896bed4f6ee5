"""Journeys that follow the book: late contacts join like the first ones, and editing a journey's
send window, weekend rule or a step's delay re-plans the contacts already waiting."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import outbound_dispatch
from engagement.journeys.services import enrolment_start_for_account
from engagement.models import JourneyEnrolment
from segmentation.signals import tier_changed

from .conftest import TUESDAY_10_BERLIN

pytestmark = pytest.mark.django_db


def _enter_mm3(account, capture) -> None:
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False), capture(execute=True):
        tier_changed.send(
            sender=None, account_id=account.pk, from_code="", to_code="MM3", source="event", change_id=7
        )


def _sync_contact(client, account, email: str, at: dt.datetime, capture) -> None:
    with time_machine.travel(at, tick=False), capture(execute=True):
        answer = client.post(
            "/api/v1/contacts/sync/",
            {
                "crm_source": account.crm_source,
                "records": [{"external_id": account.external_id, "email": email}],
            },
            format="json",
        )
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.content


@pytest.mark.parametrize("later", [dt.timedelta(minutes=1), dt.timedelta(days=7)])
def test_a_contact_synced_after_its_account_entered_the_tier_is_enrolled_like_the_first(
    account, contact, integration_client, django_capture_on_commit_callbacks, later
):
    _enter_mm3(account, django_capture_on_commit_callbacks)
    first = JourneyEnrolment.objects.get(contact=contact)

    _sync_contact(
        integration_client,
        account,
        "late@northwind.example",
        TUESDAY_10_BERLIN + later,
        django_capture_on_commit_callbacks,
    )

    late = JourneyEnrolment.objects.get(contact__email="late@northwind.example")
    assert (late.journey, late.source, late.next_position) == (first.journey, first.source, 1)
    assert late.enrolled_at == TUESDAY_10_BERLIN + later


def test_contacts_synced_before_the_tier_are_enrolled_by_the_playbook_and_not_twice(
    account, integration_client, django_capture_on_commit_callbacks
):
    _sync_contact(
        integration_client,
        account,
        "early@northwind.example",
        TUESDAY_10_BERLIN,
        django_capture_on_commit_callbacks,
    )
    assert not JourneyEnrolment.objects.exists()  # no journey yet: the account has not entered it

    _enter_mm3(account, django_capture_on_commit_callbacks)
    _sync_contact(
        integration_client,
        account,
        "again@northwind.example",
        TUESDAY_10_BERLIN,
        django_capture_on_commit_callbacks,
    )

    assert sorted(JourneyEnrolment.objects.values_list("contact__email", flat=True)) == [
        "again@northwind.example",
        "early@northwind.example",
    ]


def test_a_contact_added_by_hand_is_enrolled(
    account, contact, admin_client, django_capture_on_commit_callbacks
):
    _enter_mm3(account, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        added = admin_client.post(
            "/admin/accounts/contact/add/",
            {"account": account.pk, "email": "byhand@northwind.example", "name": "By Hand", "time_zone": ""},
        )
    assert added.status_code == 302, added.content

    assert JourneyEnrolment.objects.filter(contact__email="byhand@northwind.example").exists()


def test_a_late_contact_of_an_account_that_left_the_tier_is_not_enrolled(
    account, contact, integration_client, django_capture_on_commit_callbacks
):
    _enter_mm3(account, django_capture_on_commit_callbacks)
    # The account grew into MM2 (and re-evaluates there when the contact arrives).
    type(account).objects.filter(pk=account.pk).update(
        tier_code="MM2", tier_name="Mid-Market Tier 2", acv=20000
    )

    _sync_contact(
        integration_client,
        account,
        "late@northwind.example",
        TUESDAY_10_BERLIN,
        django_capture_on_commit_callbacks,
    )

    assert not JourneyEnrolment.objects.filter(contact__email="late@northwind.example").exists()


# --- Re-planning ----------------------------------------------------------------------------

FRIDAY_18_BERLIN = TUESDAY_10_BERLIN + dt.timedelta(days=3, hours=8)


def _waiting_for_monday(account, contact) -> JourneyEnrolment:
    """Step 1 went out on Tuesday; step 2 came due on Friday 10:00 but is decided at 18:00, after
    the window closed: it waits for Monday 09:00."""
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
        outbound_dispatch()
    with time_machine.travel(FRIDAY_18_BERLIN, tick=False):
        journey_due_steps_schedule(now=FRIDAY_18_BERLIN)
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.next_due_at == dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)  # Monday 09:00 CET
    assert enrolment.waiting_reason.startswith("Outside the send window (09:00–17:00")
    return enrolment


def _journey_form(journey, **changes) -> dict:
    data = {
        "code": journey.code,
        "name": journey.name,
        "description": journey.description,
        "tier_code": journey.tier_code,
        "send_window_start": "09:00",
        "send_window_end": "17:00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def _account_page(client, account) -> str:
    return client.get(f"/accounts/{account.pk}/journeys/", HTTP_HX_REQUEST="true").content.decode()


def test_widening_the_send_window_replans_a_waiting_contact_and_the_account_page_follows(
    client, lena, account, contact, journey, django_capture_on_commit_callbacks
):
    _waiting_for_monday(account, contact)
    client.force_login(lena)

    with time_machine.travel(FRIDAY_18_BERLIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        saved = client.post(f"/journeys/{journey.pk}/", _journey_form(journey, send_window_end="20:00"))
    assert saved.status_code in (200, 302), saved.content

    enrolment = JourneyEnrolment.objects.get()
    assert (enrolment.next_due_at, enrolment.waiting_reason) == (FRIDAY_18_BERLIN, "")
    with time_machine.travel(FRIDAY_18_BERLIN, tick=False):
        page = _account_page(client, account)
    assert "step 2 due 2026-11-27 17:00 UTC" in page
    assert "Outside the send window" not in page


def test_allowing_weekends_moves_the_wait_to_saturday(
    client, lena, account, contact, journey, django_capture_on_commit_callbacks
):
    _waiting_for_monday(account, contact)
    client.force_login(lena)

    with time_machine.travel(FRIDAY_18_BERLIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        client.post(f"/journeys/{journey.pk}/", _journey_form(journey, send_on_weekends="on"))

    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.next_due_at == dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)  # Saturday 09:00 CET
    assert "sends at Sat 28 Nov 09:00" in enrolment.waiting_reason
    with time_machine.travel(FRIDAY_18_BERLIN, tick=False):
        assert "step 2 due 2026-11-28 08:00 UTC" in _account_page(client, account)


def test_changing_a_step_delay_replans_the_contacts_waiting_for_it(
    client, lena, account, contact, journey, django_capture_on_commit_callbacks
):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
        outbound_dispatch()
    assert JourneyEnrolment.objects.get().next_due_at == TUESDAY_10_BERLIN + dt.timedelta(days=3)
    step = journey.steps.get(position=2)
    client.force_login(lena)
    data = {
        "name": step.name,
        "kind": "email",
        "delay_days": "5",
        "delay_hours": "0",
        "delay_from": step.delay_from,
        "subject_template": step.subject_template,
        "body_text_template": step.body_text_template,
    }

    with (
        time_machine.travel(TUESDAY_10_BERLIN + dt.timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        saved = client.post(f"/journeys/{journey.pk}/steps/{step.pk}/", data)
    assert saved.status_code in (200, 302), saved.content

    assert JourneyEnrolment.objects.get().next_due_at == TUESDAY_10_BERLIN + dt.timedelta(days=5)
    assert "step 2 due 2026-11-29 09:00 UTC" in _account_page(client, account)


def test_an_edit_that_does_not_touch_timing_replans_nothing(
    client, lena, account, contact, journey, django_capture_on_commit_callbacks
):
    before = _waiting_for_monday(account, contact)
    client.force_login(lena)

    with (
        time_machine.travel(FRIDAY_18_BERLIN, tick=False),
        django_capture_on_commit_callbacks(execute=True) as done,
    ):
        client.post(f"/journeys/{journey.pk}/", _journey_form(journey, name="Welcome, renamed"))

    assert not [c for c in done if "replan" in repr(c)]
    after = JourneyEnrolment.objects.get()
    assert (after.next_due_at, after.waiting_reason) == (before.next_due_at, before.waiting_reason)
