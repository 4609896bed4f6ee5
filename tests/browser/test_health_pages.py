"""Health on the account page and the worklist in a real browser, wide and narrow: the trend chart
draws from its json_script data, and nothing overflows the page sideways. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from csplatform import roles
from segmentation.models import AccountHealth, HealthScorecard, ScorecardStatus
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The page's own width against the viewport's: more means something scrolls sideways.
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def book(migration_data: None) -> Account:
    alice = UserFactory(username="alice", role=roles.CSM)
    today = dt.date.today()
    account = AccountFactory(
        name="Globex Retail Worldwide Holdings",
        csm=alice,
        acv=Decimal("82000"),
        renewal_date=today + dt.timedelta(days=21),
    )
    for n in range(8):
        AccountFactory(name=f"Acme {n}", csm=alice, health_score=60 + n, health_band="watch", health_on=today)
    scorecard = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)
    for days_ago in range(89, -1, -1):
        score = max(20, 85 - (89 - days_ago) * 2 // 3)
        band = "healthy" if score >= 70 else "watch" if score >= 40 else "at_risk"
        AccountHealth.objects.create(
            account=account,
            date=today - dt.timedelta(days=days_ago),
            score=score,
            band=band,
            scorecard=scorecard,
            summary=f"Health {score}: active users fell and tickets rose over 90 days.",
        )
    Account.objects.filter(pk=account.pk).update(health_score=score, health_band=band, health_on=today)
    return account


@pytest.mark.parametrize("width", [1440, 820])
def test_health_on_the_account_page_and_worklist_fits_the_screen(book, page_for, screenshot, width):
    page = page_for("alice", width=width)
    page.goto(f"/accounts/{book.pk}/")
    expect(page.get_by_test_id("health-panel")).to_be_visible()
    expect(page.locator("canvas[data-chart=chart-health][data-chart-ready]")).to_have_count(1)
    expect(page.get_by_test_id("health-stat")).to_contain_text("At risk")
    page.wait_for_load_state("networkidle")
    screenshot(page, f"account-health-{width}")
    assert page.evaluate(OVERFLOW) <= 0, "the account page scrolls sideways"

    page.goto("/")
    expect(page.get_by_test_id("health-badge").first).to_be_visible()
    page.select_option("#id_health", "at_risk")
    expect(page.locator("[id^=worklist-row-]")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    screenshot(page, f"worklist-health-{width}")
    assert page.evaluate(OVERFLOW) <= 0, "the worklist scrolls sideways"
