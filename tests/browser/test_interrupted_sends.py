"""Interrupted journey sends in a real browser, wide and narrow: the emails a killed sender had
claimed together are offered as one batch, CS Leadership decides for the whole batch in one
click, and nothing overflows the page sideways. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from csplatform import roles
from engagement.journeys.sending import STUCK_AFTER
from engagement.models import OutboundEmail, OutboundStatus
from tests.factories import UserFactory
from tests.journeys.factories import OutboundEmailFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def interrupted(migration_data: None) -> uuid.UUID:
    UserFactory(username="lena", role=roles.CS_LEADERSHIP)
    token = uuid.uuid4()
    claimed_at = timezone.now() - STUCK_AFTER - dt.timedelta(minutes=20)
    for _ in range(3):
        OutboundEmailFactory(status=OutboundStatus.SENDING, claim_token=token, claimed_at=claimed_at)
    return token


@pytest.mark.parametrize("width", [1440, 820])
def test_leadership_resolves_an_interrupted_batch_with_one_decision(interrupted, page_for, screenshot, width):
    page = page_for("lena", width=width)
    page.goto("/journeys/review/")
    batches = page.get_by_role("table").first
    expect(batches).to_contain_text("Emails waiting")
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, f"journeys-interrupted-sends-{width}")
    batches.get_by_role("button", name="Send none").click()
    expect(page.locator("#flash")).to_contain_text("3 interrupted email(s) resolved.")
    expect(page.get_by_text("No interrupted sends.")).to_be_visible()
    rows = OutboundEmail.objects.filter(claim_token__isnull=True, status=OutboundStatus.FAILED)
    assert rows.count() == 3 and all("Given up by" in row.detail for row in rows)
