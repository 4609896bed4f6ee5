"""The approvals inbox in a real browser, wide and narrow: a CSM's change to a tier input waits
there, CS Leadership approves it inline (HTMX), and nothing overflows the page sideways.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Account, AccountInputProposal
from csplatform import roles
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def waiting(migration_data: None) -> AccountInputProposal:
    alice = UserFactory(username="alice", role=roles.CSM)
    UserFactory(username="lena", role=roles.CS_LEADERSHIP)
    account = AccountFactory(name="Globex Retail Worldwide Holdings", csm=alice, acv=Decimal("48000"))
    return AccountInputProposal.objects.create(
        account=account,
        changes={"acv": "92000.00", "lifecycle_stage": "mature"},
        previous={"acv": "48000.00", "lifecycle_stage": "adopting"},
        requested_by=alice,
        source="api",
    )


@pytest.mark.parametrize("width", [1440, 820])
def test_leadership_approves_a_tier_input_change_inline(waiting, page_for, screenshot, width):
    page = page_for("lena", width=width)
    page.goto("/approvals/")
    row = page.locator(f"#input-proposal-{waiting.pk}")
    expect(row).to_contain_text("48000.00 → 92000.00")
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, f"approvals-input-change-{width}")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#input-proposal-{waiting.pk}")).to_contain_text("Approved")
    assert Account.objects.get(pk=waiting.account_id).acv == Decimal("92000.00")
