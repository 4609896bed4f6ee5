"""Journey screens through real URLs: editor validation, permissions, preview, dry run, results, review."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import STUCK_AFTER, outbound_dispatch
from engagement.journeys.services import enrolment_start_for_account
from engagement.journeys.unsubscribe import unsubscribe_token
from engagement.models import EnrolmentStatus, JourneyEnrolment, OutboundEmail, OutboundStatus
from playbooks.journey_templates import validate_template
from playbooks.models import Journey, JourneyStep
from tests.factories import AccountFactory, ContactFactory

from .conftest import TUESDAY_10_BERLIN
from .factories import OutboundEmailFactory

pytestmark = pytest.mark.django_db

VALID_STEP = {
    "name": "Welcome",
    "delay_days": "0",
    "delay_hours": "0",
    "delay_from": "enrolment",
    "subject_template": "Welcome {{ contact.first_name }}",
    "body_text_template": "Hi {{ contact.name }},\n\nwelcome.\n",
    "body_html_template": "",
    "skip_condition": "",
    "module_code": "",
}


def test_default_journeys_are_seeded_with_valid_templates():
    onboarding = Journey.objects.get(code="digital-onboarding")
    adoption = Journey.objects.get(code="mm2-adoption")
    assert (onboarding.tier_code, adoption.tier_code) == ("MM3", "MM2")
    assert onboarding.steps.count() == 5 and adoption.steps.count() == 4
    for step in JourneyStep.objects.filter(journey__in=[onboarding, adoption]):
        for source in (step.subject_template, step.body_text_template):
            validate_template(source)
        assert "{{ links.unsubscribe }}" in step.body_text_template


def test_the_scheduler_tick_is_a_periodic_task_every_minute():
    task = PeriodicTask.objects.get(task="engagement.journeys_tick")
    assert (task.interval.every, task.interval.period) == (1, "minutes")


def test_leadership_adds_a_step(client, lena, journey):
    client.force_login(lena)
    response = client.post(reverse("journeys:step-new", args=[journey.pk]), VALID_STEP)
    assert response.status_code == 302
    assert journey.steps.order_by("-position").first().name == "Welcome"


@pytest.mark.parametrize(
    ("field", "source", "expected"),
    [
        (
            "body_text_template",
            "Hi {{ contact.first_name }},\n\nyour CSM is {{ csm.nmae }}.",
            "Line 3: unknown placeholder “csm.nmae”",
        ),
        (
            "body_text_template",
            "Hi,\n{% if contact.name %}\nno end",
            "Line 2: template syntax error: Unclosed tag",
        ),
        ("subject_template", "Hi {{ contact.name|safe }}", "Line 1: filter “safe” is not allowed"),
        (
            "body_html_template",
            "<p>\n{% include 'secrets.html' %}</p>",
            "Line 2: the tag “include” is not allowed",
        ),
        ("skip_condition", "seats_used >= 0.6", "unknown signal 'seats_used'"),
        ("module_code", "no-such-module", "Unknown service module"),
    ],
)
def test_a_broken_template_is_refused_at_save_time_with_line_and_reason(
    client, lena, journey, field, source, expected
):
    client.force_login(lena)
    step = journey.steps.get(position=1)
    response = client.post(
        reverse("journeys:step-edit", args=[journey.pk, step.pk]), {**VALID_STEP, field: source}
    )

    assert response.status_code == 422
    assert expected in html.unescape(response.content.decode())
    step.refresh_from_db()
    assert step.subject_template == "Welcome {{ contact.first_name }}"


def test_only_leadership_edits_journeys(client, alice, tom, journey):
    step = journey.steps.get(position=1)
    client.force_login(alice)
    assert client.get(reverse("journeys:list")).status_code == 200
    assert (
        client.post(reverse("journeys:step-edit", args=[journey.pk, step.pk]), VALID_STEP).status_code == 403
    )
    assert client.post(reverse("journeys:pause", args=[journey.pk])).status_code == 403
    assert client.post(reverse("journeys:settings"), {"weekly_cap": "5"}).status_code == 403
    client.force_login(tom)
    assert client.get(reverse("journeys:list")).status_code == 403


def test_leadership_pauses_a_journey_and_all_sending(client, lena, journey):
    client.force_login(lena)
    client.post(reverse("journeys:pause", args=[journey.pk]), {"reason": "Wrong link in step 2"})
    journey.refresh_from_db()
    assert journey.is_paused and journey.paused_reason == "Wrong link in step 2"

    response = client.post(
        reverse("journeys:settings"), {"sending_paused": "on", "paused_reason": "Incident", "weekly_cap": "3"}
    )
    assert response.status_code == 302
    page = client.get(reverse("journeys:list")).content.decode()
    assert "All journey email is paused." in page and "Incident" in page


def test_preview_renders_a_step_for_a_chosen_contact(client, lena, contact, journey):
    client.force_login(lena)
    step = journey.steps.get(position=2)
    response = client.get(
        reverse("journeys:step-preview", args=[journey.pk, step.pk]), {"contact": contact.email}
    )

    assert response.status_code == 200
    assert response.context["rendered"].subject == "Invite your team at Northwind Retail"
    assert "Hi Jordan Miller," in response.content.decode()


def test_a_csm_previews_only_contacts_of_their_accounts(client, bob, contact, journey):
    client.force_login(bob)
    step = journey.steps.get(position=1)
    response = client.get(
        reverse("journeys:step-preview", args=[journey.pk, step.pk]), {"contact": contact.pk}
    )
    # Another account's contact reads as no match, like an id or address no customer has.
    assert response.status_code == 200
    assert "No contact matches" in response.content.decode()
    assert contact.email not in response.content.decode()


def test_the_dry_run_shows_who_gets_what_in_the_next_seven_days(client, lena, account, contact, journey):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        client.force_login(lena)
        response = client.get(reverse("journeys:dry-run", args=[journey.pk]))

    plan = response.context["plan"]
    assert [(p.step.position, p.at, p.subject) for p in plan] == [
        (1, TUESDAY_10_BERLIN, "Welcome Jordan"),
        (2, TUESDAY_10_BERLIN + dt.timedelta(days=3), "Invite your team at Northwind Retail"),
    ]
    assert OutboundEmail.objects.count() == 0  # a dry run sends and stores nothing


def test_the_dry_run_matches_what_the_sender_then_does(client, lena, account, contact, journey):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        client.force_login(lena)
        plan = client.get(reverse("journeys:dry-run", args=[journey.pk])).context["plan"]
    sent: list[tuple[int, dt.datetime]] = []
    moment = TUESDAY_10_BERLIN
    while moment <= TUESDAY_10_BERLIN + dt.timedelta(days=7):
        with time_machine.travel(moment, tick=False):
            journey_due_steps_schedule(now=moment)
            outbound_dispatch()
        moment += dt.timedelta(hours=1)
    sent = [(row.step.position, row.created_at) for row in OutboundEmail.objects.order_by("id")]
    assert sent == [(p.step.position, p.at) for p in plan]


def test_results_per_journey_and_step(client, lena, account, contact, journey):
    ContactFactory(account=account, email="second@northwind.example")
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
        outbound_dispatch()
    client.post(reverse("journeys:unsubscribe", kwargs={"token": unsubscribe_token(contact_id=contact.pk)}))
    client.force_login(lena)
    response = client.get(reverse("journeys:results", args=[journey.pk]))

    results = response.context["results"]
    assert results.enrolled == 2 and results.stopped == 1 and results.counts["unsubscribed"] == 1
    first = results.steps[0]
    assert first.counts["sent"] == 2 and first.counts["unsubscribed"] == 1


def test_the_review_list_and_its_decisions(client, lena):
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    stuck = OutboundEmailFactory(
        status=OutboundStatus.SENDING, claimed_at=now - STUCK_AFTER - dt.timedelta(1)
    )
    client.force_login(lena)
    with time_machine.travel(now, tick=False):
        page = client.get(reverse("journeys:review"))
        assert list(page.context["rows"]) == [stuck]
        refused = client.post(reverse("journeys:review-resolve", args=[stuck.pk]), {"action": "maybe"})
        stuck.refresh_from_db()
        assert refused.status_code == 422 and "action: Choose one of" in refused.content.decode()
        assert stuck.status == OutboundStatus.SENDING and stuck.reviewed_by is None
        client.post(reverse("journeys:review-resolve", args=[stuck.pk]), {"action": "give_up"})
        again = client.post(reverse("journeys:review-resolve", args=[stuck.pk]), {"action": "resend"})
    assert again.status_code == 422 and "no longer waiting for review" in again.content.decode()
    stuck.refresh_from_db()
    assert stuck.status == OutboundStatus.FAILED and stuck.reviewed_by == lena


def _interrupted(token: uuid.UUID, claimed_at: dt.datetime, count: int) -> list[OutboundEmail]:
    return [
        OutboundEmailFactory(status=OutboundStatus.SENDING, claim_token=token, claimed_at=claimed_at)
        for _ in range(count)
    ]


def test_an_interrupted_batch_is_resolved_with_one_decision(client, lena):
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    crashed_at = now - STUCK_AFTER - dt.timedelta(hours=1)
    first, second = uuid.uuid4(), uuid.uuid4()
    batch = _interrupted(first, crashed_at, 3)
    other = _interrupted(second, crashed_at + dt.timedelta(minutes=5), 2)
    client.force_login(lena)
    with time_machine.travel(now, tick=False):
        page = client.get(reverse("journeys:review"))
        assert [(b["claim_token"], b["emails"]) for b in page.context["batches"]] == [(first, 3), (second, 2)]
        assert "All were delivered" in page.content.decode()
        response = client.post(
            reverse("journeys:review-resolve-batch", args=[first]), {"action": "delivered"}, follow=True
        )
    assert "3 interrupted email(s) resolved." in response.content.decode()
    for row in batch:
        row.refresh_from_db()
        assert row.status == OutboundStatus.SENT and row.sent_at == crashed_at
        assert row.reviewed_by == lena and row.claim_token is None and "Confirmed delivered" in row.detail
    # The other batch waits for its own decision.
    assert {r.status for r in OutboundEmail.objects.filter(pk__in=[r.pk for r in other])} == {
        OutboundStatus.SENDING
    }
    with time_machine.travel(now, tick=False):
        client.post(reverse("journeys:review-resolve-batch", args=[second]), {"action": "resend"})
    assert {r.status for r in OutboundEmail.objects.filter(pk__in=[r.pk for r in other])} == {
        OutboundStatus.PENDING
    }


def test_the_review_page_reads_as_many_queries_whatever_the_number_of_batches(client, lena):
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    crashed_at = now - STUCK_AFTER - dt.timedelta(hours=1)
    client.force_login(lena)

    def page_queries() -> tuple[int, int]:
        with time_machine.travel(now, tick=False), CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("journeys:review"))
        return len(page.context["batches"]), len(captured.captured_queries)

    _interrupted(uuid.uuid4(), crashed_at, 2)
    one, few = page_queries()
    for minutes in range(1, 4):
        _interrupted(uuid.uuid4(), crashed_at + dt.timedelta(minutes=minutes), 2)
    four, many = page_queries()
    assert (one, four) == (1, 4)
    assert many == few == 4, (few, many)  # session, user, the batches, the rows


def test_a_batch_decision_that_cannot_apply_names_the_field_and_changes_nothing(client, lena, bob):
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    token = uuid.uuid4()
    batch = _interrupted(token, now - STUCK_AFTER - dt.timedelta(hours=1), 2)
    url = reverse("journeys:review-resolve-batch", args=[token])
    client.force_login(lena)
    with time_machine.travel(now, tick=False):
        refused = client.post(url, {"action": "explode"})
        unknown = client.post(
            reverse("journeys:review-resolve-batch", args=[uuid.uuid4()]), {"action": "give_up"}
        )
        client.force_login(bob)
        forbidden = client.post(url, {"action": "give_up"})
    assert refused.status_code == 422 and "action: Choose one of" in refused.content.decode()
    assert unknown.status_code == 422
    assert "claim_token: No email of this batch is waiting for review." in unknown.content.decode()
    assert forbidden.status_code == 403
    for row in batch:
        row.refresh_from_db()
        assert row.status == OutboundStatus.SENDING and row.claim_token == token and row.reviewed_by is None


def test_a_batch_claimed_too_recently_is_not_offered_nor_resolved(client, lena):
    """A sender may still be sending a batch claimed a minute ago: it is not stuck yet."""
    now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    token = uuid.uuid4()
    (row,) = _interrupted(token, now - dt.timedelta(minutes=1), 1)
    client.force_login(lena)
    with time_machine.travel(now, tick=False):
        assert client.get(reverse("journeys:review")).context["batches"] == []
        response = client.post(reverse("journeys:review-resolve-batch", args=[token]), {"action": "give_up"})
    assert response.status_code == 422
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENDING


def test_the_account_csm_enrols_by_hand_and_stops_an_enrolment(client, alice, account, contact, journey):
    client.force_login(alice)
    response = client.post(
        reverse("journeys:account-enrol", args=[account.pk]), {"journey": journey.pk, "contact": contact.pk}
    )
    assert response.status_code == 302
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.source == "manual" and enrolment.enrolled_by == alice

    client.post(reverse("journeys:enrolment-stop", args=[enrolment.pk]))
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.STOPPED and enrolment.stop_reason == "stopped_by_csm"


def test_another_csm_cannot_see_or_stop_the_accounts_journeys(client, bob, account, contact, journey):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
    client.force_login(bob)
    enrolment = JourneyEnrolment.objects.get()
    assert client.get(reverse("journeys:account-journeys", args=[account.pk])).status_code == 404
    assert client.post(reverse("journeys:enrolment-stop", args=[enrolment.pk])).status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACTIVE


def test_the_account_section_lists_enrolments_in_few_queries(
    client, alice, django_assert_max_num_queries, journey
):
    account = AccountFactory(csm=alice, tier_code="MM3")
    ContactFactory.create_batch(15, account=account)
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
    client.force_login(alice)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("journeys:account-journeys", args=[account.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content.count(b"Stop</button>") == 15


def test_the_list_and_results_stay_at_a_fixed_number_of_queries(
    client, lena, django_assert_max_num_queries, journey
):
    account = AccountFactory(tier_code="MM3")
    ContactFactory.create_batch(10, account=account)
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
    client.force_login(lena)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("journeys:list")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("journeys:results", args=[journey.pk])).status_code == 200


def test_leadership_creates_a_journey_and_opens_its_pages(client, lena, account, contact):
    client.force_login(lena)
    response = client.post(
        reverse("journeys:new"),
        {
            "code": "webinar-invites",
            "name": "Webinar invitations",
            "description": "",
            "tier_code": "MM2",
            "send_window_start": "10:00",
            "send_window_end": "16:00",
        },
    )
    journey = Journey.objects.get(code="webinar-invites")
    assert response.status_code == 302 and response.url == reverse("journeys:detail", args=[journey.pk])
    assert client.get(response.url).status_code == 200
    page = client.get(reverse("journeys:account-journeys", args=[account.pk]))
    assert page.status_code == 200 and b"Journeys of Northwind Retail" in page.content


def test_a_send_window_that_ends_before_it_starts_is_refused(client, lena, journey):
    client.force_login(lena)
    response = client.post(
        reverse("journeys:detail", args=[journey.pk]),
        {
            "code": journey.code,
            "name": journey.name,
            "tier_code": "MM3",
            "send_window_start": "17:00",
            "send_window_end": "09:00",
        },
    )
    assert response.status_code == 422
    assert "The send window must end after it starts." in html.unescape(response.content.decode())


def test_the_timeline_selector_lists_journey_emails_newest_first(account, contact, journey):
    from engagement.journeys.selectors import journey_events_for_account

    moment = TUESDAY_10_BERLIN
    with time_machine.travel(moment, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
    for days in (0, 3):
        with time_machine.travel(moment + dt.timedelta(days=days), tick=False):
            journey_due_steps_schedule(now=moment + dt.timedelta(days=days))
            outbound_dispatch()

    events = journey_events_for_account(account.pk, 10)
    assert [e["title"] for e in events] == [
        "Email sent: Invite your team at Northwind Retail",
        "Email sent: Welcome Jordan",
    ]
    assert events[0]["kind"] == "journey_email" and events[0]["at"] > events[1]["at"]


def test_the_accounts_ae_sees_its_journeys_without_the_actions(client, tom, account, contact, journey):
    type(account).objects.filter(pk=account.pk).update(ae=tom)
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")
    client.force_login(tom)
    response = client.get(reverse("journeys:account-journeys", args=[account.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and b"Welcome" in response.content
    assert b"Stop</button>" not in response.content
    enrolment = JourneyEnrolment.objects.get()
    assert client.post(reverse("journeys:enrolment-stop", args=[enrolment.pk])).status_code == 403


def test_step_preview_shows_the_email_rendered_in_a_sandboxed_frame_with_a_sample_contact(client, lena):
    from tests.factories import AccountFactory, ContactFactory
    from tests.journeys.factories import JourneyFactory, JourneyStepFactory

    account = AccountFactory(tier_code="MM3", name="Sterling Market")
    ContactFactory(account=account, name="Julia Quinn", email="julia@sterling.example")
    journey = JourneyFactory(code="preview-journey", tier_code="MM3")
    step = JourneyStepFactory(
        journey=journey,
        position=1,
        body_html_template="<p style='color:#123'>Hi {{ contact.first_name }}</p>",
    )
    client.force_login(lena)

    response = client.get(f"/journeys/{journey.pk}/steps/{step.pk}/preview/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "As Julia Quinn will read it" in page, "a contact of the journey's tier is previewed at once"
    frame = re.search(r'<iframe[^>]*sandbox=""[^>]*srcdoc="([^"]*)"', page)
    assert frame is not None and "Hi Julia" in frame.group(1) and "style=" in frame.group(1)
    assert "&lt;pre" not in page and "HTML (source)" not in page
    # Inline styles are allowed for the email's frame on this page only.
    assert "style-src 'self' 'unsafe-inline'" in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get(f"/journeys/{journey.pk}/")["Content-Security-Policy"]
