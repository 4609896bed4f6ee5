"""The bell in the header, the notification list, the survey answer page and the satisfaction
panel in a real browser, wide and narrow: the bell's count updates without a reload, and nothing
overflows sideways. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from csplatform import roles
from engagement.models import Notification, OutboundEmail, OutboundStatus, Survey, SurveyResponse
from engagement.surveys.tokens import survey_token
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.journeys.factories import EnrolmentFactory, JourneyFactory, JourneyStepFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def people(migration_data: None):
    alice = UserFactory(username="alice", role=roles.CSM)
    UserFactory(username="lena", role=roles.CS_LEADERSHIP)
    account = AccountFactory(name="Globex Retail Worldwide Holdings", csm=alice, tier_code="MM3")
    now = timezone.now()
    for n in range(3):
        Notification.objects.create(
            recipient=alice,
            kind="flag_raised",
            key=f"flag:{n}",
            title=f"Usage drop on Globex Retail Worldwide Holdings ({n})",
            body="Active users fell by 40% in 30 days.",
            url=f"/accounts/{account.pk}/",
            account=account,
            created_at=now - dt.timedelta(hours=n),
        )
    journey = JourneyFactory(code="nps", name="Quarterly NPS")
    step = JourneyStepFactory(journey=journey, position=1, kind="survey", survey_kind="nps")
    survey = Survey.objects.create(
        kind="nps", question="How likely are you to recommend us?", journey_step=step, journey=journey
    )
    contacts = [ContactFactory(account=account, name=f"Contact {n}") for n in range(4)]
    for n, contact in enumerate(contacts):
        enrolment = EnrolmentFactory(journey=journey, contact=contact, account=account)
        OutboundEmail.objects.create(
            enrolment=enrolment,
            step=step,
            journey=journey,
            account=account,
            contact=contact,
            status=OutboundStatus.SENT,
            to_email=contact.email,
            subject="NPS",
        )
        if n:
            SurveyResponse.objects.create(
                survey=survey,
                contact=contact,
                account=account,
                kind="nps",
                score=[3, 8, 10][n - 1],
                comment="Onboarding emails were clear, support slow." if n == 1 else "",
                responded_at=now - dt.timedelta(days=40 * n),
                journey=journey,
                csm=alice,
                tier_code="MM3",
            )
    return {"survey": survey, "contact": contacts[0]}


@pytest.mark.parametrize("width", [1440, 820])
def test_the_bell_counts_and_clears_without_a_reload(people, page_for, screenshot, width):
    page = page_for("alice", width=width)
    expect(page.get_by_test_id("unread-count")).to_have_text("3")
    page.goto("/notifications/")
    expect(page.get_by_test_id("notifications")).to_contain_text("Usage drop on Globex")
    screenshot(page, f"notifications-{width}")
    page.get_by_role("button", name="Mark read").first.click()
    expect(page.get_by_test_id("unread-count")).to_have_text("2")  # no reload: the bell heard the event
    assert page.evaluate(OVERFLOW) <= 0


@pytest.mark.parametrize("width", [1440, 820])
def test_the_answer_page_and_the_satisfaction_panel_fit(
    people, page_for, screenshot, browser, live_server, width
):
    token = survey_token(survey_id=people["survey"].pk, contact_id=people["contact"].pk)
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
    answer = context.new_page()
    answer.goto(f"/survey/{token}/?score=9")
    expect(answer.locator("input[name=score][value='9']")).to_be_checked()
    screenshot(answer, f"survey-answer-{width}")
    assert answer.evaluate(OVERFLOW) <= 0
    answer.fill("#survey-comment", "Great QBR")
    answer.get_by_role("button", name="Send my answer").click()
    expect(answer.get_by_test_id("recorded-score")).to_have_text("9")
    context.close()

    page = page_for("lena", width=width)
    page.goto("/overview/")
    panel = page.locator("#panel-satisfaction")
    expect(panel.get_by_test_id("satisfaction-nps")).to_contain_text("MM3")
    expect(panel.get_by_test_id("survey-comments")).to_contain_text("Great QBR")
    panel.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    screenshot(page, f"satisfaction-panel-{width}")
    assert page.evaluate(OVERFLOW) <= 0
