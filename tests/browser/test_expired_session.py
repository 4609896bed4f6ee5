"""A session that expires while a note is being typed: the sign-in page says why, and the note
comes back when the form opens again after signing in."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from csplatform import roles
from engagement.models import Touchpoint
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_expired_session_keeps_the_typed_note_and_says_why_it_asks_to_sign_in(
    migration_data, page_for, live_server
):
    alice = UserFactory(username="alice", role=roles.CSM)
    account = AccountFactory(csm=alice, name="Globex Retail")
    page = page_for("alice")
    page.goto(f"/accounts/{account.pk}/")
    page.get_by_role("link", name="Log touchpoint").click()
    dialog = page.locator("#app-dialog")
    dialog.get_by_label("Minutes").fill("40")
    dialog.get_by_label("Notes").fill("Champion moves to the Berlin office in March")

    Session.objects.all().delete()  # the session ends on the server (expiry, or signed out elsewhere)
    dialog.get_by_role("button", name="Log touchpoint").click()

    page.wait_for_url("**/login/**")
    expect(page.get_by_test_id("session-expired")).to_contain_text("Your session expired")
    assert not Touchpoint.objects.exists()
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_role("link", name="Log touchpoint").click()
    expect(dialog.get_by_label("Notes")).to_have_value("Champion moves to the Berlin office in March")
    expect(dialog.get_by_label("Minutes")).to_have_value("40")
    expect(page.locator("#flash")).to_contain_text("put back")
    dialog.get_by_role("button", name="Log touchpoint").click()
    expect(dialog).to_be_hidden()
    assert Touchpoint.objects.get().notes == "Champion moves to the Berlin office in March"
