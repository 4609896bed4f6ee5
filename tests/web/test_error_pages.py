"""403 and 404 are the product's own pages, with DEBUG on (the embedded default) as well as off."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
def test_an_ae_opening_another_reps_account_sees_the_styled_404_and_no_url_patterns(
    client, settings, tom, tina, debug
):
    settings.DEBUG = debug
    account = AccountFactory(ae=tina)
    client.force_login(tom)

    response = client.get(f"/accounts/{account.pk}/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in page
    assert 'class="topbar"' in page, "the page comes in the product's layout"
    assert "URLconf" not in page and "accounts/&lt;int:account_id&gt;" not in page


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_address_answers_the_styled_404_and_the_api_keeps_json(client, settings, alice, debug):
    settings.DEBUG = debug
    client.force_login(alice)

    page = client.get("/no-such-page/")
    api = client.get("/api/v1/no-such-endpoint/")

    assert page.status_code == 404
    assert "This page does not exist" in page.content.decode()
    assert "URLconf" not in page.content.decode()
    assert api.status_code == 404 and api.json() == {"detail": "Not found."}


def test_an_htmx_request_for_a_missing_object_gets_one_sentence_to_flash(client, settings, tom, tina):
    settings.DEBUG = True
    account = AccountFactory(ae=tina)
    client.force_login(tom)

    response = client.get(f"/accounts/{account.pk}/", HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "That no longer exists, or you cannot see it."


def test_a_page_of_another_role_answers_the_styled_403_saying_why(client, alice):
    client.force_login(alice)

    response = client.get("/policies/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "Your role cannot open this" in page
    assert 'class="topbar"' in page
