"""Saved views: each person names the filters of the worklist or the accounts list and opens them
again; the worklist's filters, count and pager follow the address."""

from __future__ import annotations

import pytest

from csplatform.models import SavedView
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_csm_saves_the_accounts_filters_as_a_view_and_opens_it_again(alice, signed_in, htmx_headers):
    AccountFactory(name="Globex", csm=alice, lifecycle_stage="renewing")
    client = signed_in(alice)

    response = client.post(
        "/saved-views/",
        {"page": "accounts", "name": "  Renewing   now ", "query": "lifecycle=renewing&page=3"},
        headers=htmx_headers,
    )

    assert response.status_code == 200
    view = SavedView.objects.get(user=alice)
    assert (view.page, view.name, view.query) == ("accounts", "Renewing now", "lifecycle=renewing")
    assert "saved" in response["HX-Trigger"]
    page = client.get("/accounts/", {"lifecycle": "renewing"}).content.decode()
    assert 'href="/accounts/?lifecycle=renewing" aria-current="true">Renewing now</a>' in page


def test_saving_under_the_same_name_replaces_the_view(alice, signed_in, htmx_headers):
    client = signed_in(alice)
    for query in ("tier=ENT", "tier=MM1"):
        client.post(
            "/saved-views/", {"page": "worklist", "name": "Mine", "query": query}, headers=htmx_headers
        )
    assert list(SavedView.objects.values_list("name", "query")) == [("Mine", "tier=MM1")]


def test_a_view_without_a_name_is_refused_next_to_the_form_and_nothing_is_saved(
    alice, signed_in, htmx_headers
):
    response = signed_in(alice).post(
        "/saved-views/", {"page": "worklist", "name": "   ", "query": "tier=ENT"}, headers=htmx_headers
    )
    assert response.status_code == 422
    assert "Give the view a name." in response.content.decode()
    assert not SavedView.objects.exists()


def test_views_are_each_persons_own(alice, bob, signed_in, htmx_headers):
    mine = SavedView.objects.create(user=alice, page="worklist", name="Alice's", query="tier=ENT")
    bobs = signed_in(bob)

    assert "Alice&#x27;s" not in bobs.get("/worklist/").content.decode()
    assert bobs.post(f"/saved-views/{mine.pk}/delete/", headers=htmx_headers).status_code == 404
    assert SavedView.objects.filter(pk=mine.pk).exists()
    assert signed_in(alice).post(f"/saved-views/{mine.pk}/delete/", headers=htmx_headers).status_code == 200
    assert not SavedView.objects.exists()


def test_an_ae_cannot_save_a_worklist_view(tom, signed_in, htmx_headers):
    response = signed_in(tom).post(
        "/saved-views/", {"page": "worklist", "name": "x", "query": ""}, headers=htmx_headers
    )
    assert response.status_code == 403
    assert not SavedView.objects.exists()


def test_the_worklist_count_and_pager_follow_the_filter_and_the_address(alice, signed_in, htmx_headers):
    from decimal import Decimal

    AccountFactory.create_batch(
        3, csm=alice, acv=Decimal("90000"), tier_code="ENT", tier_name="Enterprise", tier_rank=1
    )
    AccountFactory.create_batch(
        2, csm=alice, acv=Decimal("9000"), tier_code="MM3", tier_name="MM3", tier_rank=4
    )
    client = signed_in(alice)

    page = client.get("/").content.decode()
    fragment = client.get("/", {"tier": "ENT"}, headers=htmx_headers).content.decode()

    assert 'hx-push-url="true"' in page and 'data-total="5"' in page
    assert 'data-total="3"' in fragment and "Page 1 of 1 · 3 in all" in fragment
    assert 'name="query" value="tier=ENT"' in fragment, "the save form holds the filters shown"


def test_a_bad_worklist_filter_shows_the_unfiltered_list_with_the_filter_marked(alice, signed_in):
    AccountFactory.create_batch(2, csm=alice)
    response = signed_in(alice).get("/", {"flag": "no-such-flag"})
    body = response.content.decode()
    assert response.status_code == 400  # the question was not answered as asked
    assert 'data-total="2"' in body
    assert "Not understood, so not applied" in body and 'aria-invalid="true"' in body
