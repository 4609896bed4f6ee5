"""The header at tablet width (a Menu button, by keyboard) and a bulk decision in the approvals
inbox, in a real browser: one result next to each ticked row, the refused one included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from csplatform import roles
from playbooks.models import AccountAddOn, ServiceModule
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def people(migration_data: None) -> None:
    UserFactory(username="alice", role=roles.CSM)
    UserFactory(username="lena", role=roles.CS_LEADERSHIP)


def test_at_tablet_width_the_navigation_opens_and_closes_from_the_keyboard(people, page_for, screenshot):
    page = page_for("lena", width=820)
    nav = page.locator("#mainnav")
    expect(nav).to_be_hidden()
    expect(page.locator("#header-search-q")).to_be_visible()
    page.locator("[data-nav-toggle]").focus()
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    expect(page.locator("[data-nav-toggle]")).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.activeElement.closest('#mainnav') !== null")
    screenshot(page, "header-menu-820")
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    assert page.evaluate("document.activeElement.hasAttribute('data-nav-toggle')")
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(nav).to_be_visible()
    expect(page.locator("[data-nav-toggle]")).to_be_hidden()
    top = page.eval_on_selector_all("#mainnav a", "links => links.map(a => a.getBoundingClientRect().top)")
    assert len(set(top)) == 1, "at laptop width the navigation fits one line"


def test_a_bulk_decision_shows_each_rows_result_next_to_it(people, page_for, screenshot):
    from csplatform.models import User

    alice = User.objects.get(username="alice")
    add_ons = [
        AccountAddOn.objects.create(
            account=AccountFactory(name=f"Bulk Co {i}", csm=alice),
            module=ServiceModule.objects.get(code="qbr"),
            cadence_days=30,
            starts_on=timezone.localdate() + dt.timedelta(days=1),
            requested_by=alice,
        )
        for i in range(3)
    ]
    page = page_for("lena", width=1440)
    page.goto("/approvals/")
    page.locator("[data-tick-all=addons-bulk]").check()
    # One of them is decided meanwhile, by someone else.
    AccountAddOn.objects.filter(pk=add_ons[2].pk).update(status="declined", decision_reason="Elsewhere")
    page.locator("#addons-bulk button[value=approve]").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("2 add-ons approved. 1 not decided")
    for add_on in add_ons[:2]:
        expect(page.locator(f"#addon-{add_on.pk}")).to_contain_text("Decided in the batch.")
    refused = page.locator(f"#addon-{add_ons[2].pk}")
    expect(refused).to_contain_text("Not decided: This add-on was already declined.")
    screenshot(page, "approvals-bulk-1440")
    statuses = sorted(AccountAddOn.objects.values_list("status", flat=True))
    assert statuses == ["approved", "approved", "declined"]
