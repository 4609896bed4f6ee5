"""The worklist sorted in a real browser: a header clicked (or reached with the keyboard) sorts the
rows and puts the order in the address; Back and reload keep it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from csplatform import roles
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def book(migration_data: None) -> None:
    alice = UserFactory(username="alice", role=roles.CSM)
    for name, acv, rank in (("Bravo", 90000, 1), ("Delta", 10000, 4), ("Alpha", 40000, 3)):
        AccountFactory(name=name, csm=alice, acv=Decimal(acv), tier_code=f"T{rank}", tier_rank=rank)


def _names(page):
    return page.locator("#worklist-results tbody tr td:first-child > a").all_inner_texts()


def test_a_csm_sorts_the_worklist_by_a_header_and_back_and_reload_keep_it(book, page_for):
    page = page_for("alice")
    expect(page.get_by_role("heading", name="My worklist")).to_be_visible()
    why = page.get_by_role("columnheader", name="Why it is here")
    expect(why).to_have_attribute("aria-sort", "ascending")

    page.get_by_role("link", name="ACV", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?order=acv$"))
    expect(page.get_by_role("columnheader", name="ACV")).to_have_attribute("aria-sort", "ascending")
    assert _names(page) == ["Delta", "Alpha", "Bravo"]

    # A second activation, from the keyboard, sorts descending.
    page.get_by_role("link", name="ACV", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?order=-acv$"))
    expect(page.get_by_role("columnheader", name="ACV")).to_have_attribute("aria-sort", "descending")
    assert _names(page) == ["Bravo", "Alpha", "Delta"]

    page.go_back()
    expect(page).to_have_url(re.compile(r"\?order=acv$"))
    expect(page.get_by_role("columnheader", name="ACV")).to_have_attribute("aria-sort", "ascending")
    assert _names(page) == ["Delta", "Alpha", "Bravo"]

    page.reload()
    expect(page.get_by_role("columnheader", name="ACV")).to_have_attribute("aria-sort", "ascending")
    assert _names(page) == ["Delta", "Alpha", "Bravo"]
    expect(why).not_to_have_attribute("aria-sort", "ascending")
