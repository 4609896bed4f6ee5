"""The product walked in a real browser: a CSM works the worklist, a leader approves and steers,
an AE logs a commitment. Screenshots of each main page go to test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from csplatform import roles
from engagement.models import HandoffCommitment, Touchpoint
from segmentation.models import TierOverride
from segmentation.services.initial_tiers import tier_assign_initial
from tests.factories import AccountFactory, ContactFactory, UsageSnapshotFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def demo(migration_data: None) -> dict[str, Account]:
    alice = UserFactory(username="alice", role=roles.CSM)
    UserFactory(username="lena", role=roles.CS_LEADERSHIP)
    tom = UserFactory(username="tom", role=roles.ACCOUNT_EXECUTIVE)
    today = dt.date.today()
    accounts = {
        "globex": AccountFactory(
            name="Globex Retail",
            csm=alice,
            ae=tom,
            acv=Decimal("82000"),
            renewal_date=today + dt.timedelta(days=21),
            contract_start=today - dt.timedelta(days=340),
        ),
        "initech": AccountFactory(name="Initech Travel", csm=alice, ae=tom, acv=Decimal("9000")),
        "umbrella": AccountFactory(name="Umbrella Games", csm=alice, acv=Decimal("27000")),
    }
    for account in accounts.values():
        ContactFactory(account=account, is_champion=True)
        for week in range(8):
            UsageSnapshotFactory(
                account=account,
                period_start=today - dt.timedelta(weeks=8 - week),
                active_users=30 + 2 * week,
                licensed_seats=50,
                support_tickets=week % 3,
            )
    for _ in range(12):
        AccountFactory(csm=alice, acv=Decimal("16000"))
    tier_assign_initial()
    for account in accounts.values():
        account.refresh_from_db()
    return accounts


def test_csm_logs_a_touchpoint_inline_and_overrides_a_tier(demo, page_for, screenshot):
    page = page_for("alice")
    expect(page.get_by_role("heading", name="My worklist")).to_be_visible()
    expect(page.get_by_test_id("capacity-hours")).to_be_visible()
    initech = demo["initech"]
    row = page.locator(f"#worklist-row-{initech.id}")
    expect(row.get_by_test_id("last-touch")).to_have_text("Last touch: never")
    screenshot(page, "worklist")

    row.get_by_role("link", name="Log touchpoint").click()
    dialog = page.locator("#app-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Kind").select_option("call")
    dialog.get_by_label("Minutes").fill("25")
    dialog.get_by_role("button", name="Log touchpoint").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#worklist-row-{initech.id}").get_by_test_id("last-touch")).to_have_text(
        f"Last touch: {dt.date.today():%Y-%m-%d}"
    )
    expect(page.locator("#flash")).to_contain_text("Touchpoint logged")
    assert Touchpoint.objects.filter(account=initech).count() == 1

    # An invalid submission keeps the dialog open with the error next to the field.
    page.locator(f"#worklist-row-{initech.id}").get_by_role("link", name="Log touchpoint").click()
    dialog.get_by_label("Minutes").fill("-3")
    dialog.get_by_role("button", name="Log touchpoint").click()
    expect(dialog.locator("#id_minutes_error")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()

    page.goto(f"/accounts/{initech.id}/")
    sentence = page.get_by_test_id("tier-sentence")
    expect(sentence).to_contain_text("Mid-Market Tier 3")
    before = sentence.inner_text()
    screenshot(page, "account")
    page.locator("#section-tier").get_by_role("link", name="Override tier…").click()
    dialog.get_by_label("Tier").select_option("MM2")
    dialog.get_by_label("Reason").select_option("expansion_potential")
    dialog.get_by_label("Why, in a few words").fill("Rolling out to three more regions next quarter")
    dialog.get_by_role("button", name="Override").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("tier-sentence")).not_to_have_text(before)
    expect(page.get_by_test_id("active-override")).to_contain_text("Rolling out to three more regions")
    assert Account.objects.get(pk=initech.pk).tier_code == "MM2"


def test_leader_approves_an_override_and_sees_the_distribution_move(demo, page_for, screenshot):
    csm = page_for("alice")
    initech = demo["initech"]
    csm.goto(f"/accounts/{initech.id}/")
    csm.locator("#section-tier").get_by_role("link", name="Override tier…").click()
    dialog = csm.locator("#app-dialog")
    dialog.get_by_label("Tier").select_option("ENT")
    dialog.get_by_label("Reason").select_option("executive_sponsor")
    dialog.get_by_label("Why, in a few words").fill("The CEO sponsors the programme")
    dialog.get_by_role("button", name="Override").click()
    expect(csm.get_by_test_id("pending-override")).to_contain_text("awaiting CS Leadership approval")

    leader = page_for("lena")
    expect(leader.get_by_role("heading", name="Leadership overview")).to_be_visible()
    ent = leader.get_by_test_id("tier-count-ENT")
    expect(ent).to_have_text("1")
    # Charts are drawn from the JSON each fragment carries (no inline script).
    expect(
        leader.locator("#panel-distribution canvas[data-chart=chart-distribution][data-chart-ready]")
    ).to_have_count(1)
    expect(leader.locator("#panel-capacity canvas[data-chart-ready]")).to_have_count(1)
    screenshot(leader, "leadership-overview")

    leader.goto("/approvals/")
    row = leader.locator(f"#override-{TierOverride.objects.get().id}")
    expect(row).to_contain_text("The CEO sponsors the programme")
    screenshot(leader, "approvals")
    row.get_by_role("button", name="Approve").click()
    expect(leader.locator("#flash")).to_contain_text("approved")
    leader.goto("/")
    expect(leader.get_by_test_id("tier-count-ENT")).to_have_text("2")


def test_ae_logs_a_commitment_exceeding_the_tier_and_sees_it_flagged(demo, page_for, screenshot):
    page = page_for("tom")
    expect(page.get_by_role("heading", name="My handoffs")).to_be_visible()
    screenshot(page, "handoffs")
    page.get_by_role("row", name=re.compile("Initech Travel")).get_by_role(
        "link", name="Log commitment"
    ).click()
    expect(page.get_by_role("heading", name=re.compile("What MM3 includes"))).to_be_visible()
    page.get_by_label("Service promised").select_option("qbr")
    page.get_by_label("Every (days)").fill("30")
    expect(page.locator("#commitment-check")).to_contain_text("exceeds tier")
    page.get_by_label("Deal reference").fill("OPP-4711")
    page.get_by_role("button", name="Log commitment").click()
    expect(page.get_by_test_id("logged-result")).to_contain_text("exceeds tier")
    expect(page.get_by_test_id("exceeds-tier").first).to_be_visible()
    screenshot(page, "handoff-account")
    assert HandoffCommitment.objects.get().status == "exceeds_tier"


def test_leader_simulates_a_policy_and_runs_a_review(demo, page_for, screenshot):
    page = page_for("lena")
    page.goto("/policies/")
    page.get_by_role("button", name="New draft from the active policy").click()
    expect(page.get_by_role("heading", name=re.compile("draft", re.I))).to_be_visible()
    page.locator("#id_tiers-0-min_acv").fill("85000")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    page.get_by_role("button", name="Run what-if simulation").click()
    result = page.get_by_test_id("simulation-result")
    expect(result).to_contain_text("would change tier")
    expect(page.locator("#simulation canvas")).to_be_visible()
    screenshot(page, "policy-simulation")

    page.goto("/reviews/")
    page.get_by_role("button", name="Start a review now").click()
    expect(page.get_by_test_id("review-percent")).to_have_text("100%")
    expect(page.get_by_test_id("review-result")).to_contain_text("Changes applied")
    screenshot(page, "review")


def test_pages_fit_a_tablet_and_work_with_the_keyboard(demo, page_for, screenshot):
    page = page_for("alice", width=800)
    expect(page.get_by_role("heading", name="My worklist")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820
    screenshot(page, "worklist-tablet")
