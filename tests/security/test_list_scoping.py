"""Lists are scoped: nothing of an account leaks to people who do not own it, whatever the filter.

alice (CSM) and tom (AE) own "Northwind Retail" and everything hanging off it; bob (CSM) and
tina (AE) own "Contoso Other". Every list endpoint and list page is asked by bob and tina, with
and without filters and searches that point straight at Northwind; none may mention it.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.security.matrix import build_world

SECRET_NAME = "Northwind Retail"

API_LISTS = [
    "/api/v1/accounts/",
    "/api/v1/tier-overrides/",
    "/api/v1/tier-proposals/",
    "/api/v1/add-ons/",
    "/api/v1/touchpoints/",
    "/api/v1/commitments/",
    "/api/v1/tasks/",
    "/api/v1/flags/",
]


@pytest.fixture
def world(alice, bob, tom, tina, lena, ivan, token_client):
    from tests.engagement.factories import TouchpointFactory

    people = {"alice": alice, "bob": bob, "tom": tom, "tina": tina, "lena": lena, "ivan": ivan}
    world = build_world(people, token_client)
    TouchpointFactory(account_id=world.ids["int:account_id"], notes="Renewal talk with Northwind")
    return world


def _filters(world) -> list[dict[str, str]]:
    account = str(world.ids["int:account_id"])
    return [
        {},
        {"search": "Northwind"},
        {"search": "northwind-retail"},
        {"csm": "alice"},
        {"tier": "MM1"},
        {"updated_since": "2000-01-01T00:00:00Z"},
        {"account": account},
        {"account_id": account},
        {"status": "pending"},
        {"page_size": "500"},
    ]


def _session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["bob", "tina"])
@pytest.mark.parametrize("path", API_LISTS)
def test_api_lists_show_nothing_of_an_account_someone_else_owns(world, who, path, bob, tina):
    client = _session({"bob": bob, "tina": tina}[who])
    account_id = world.ids["int:account_id"]
    for params in _filters(world):
        response = client.get(path, params)
        # A filter naming an account the user may not see: an empty list, or a 400/404 saying so.
        assert response.status_code in (200, 400, 404), (params, response.status_code)
        if response.status_code != 200:
            continue
        body = response.json()
        results = body["results"] if isinstance(body, dict) and "results" in body else body
        text = json.dumps(results)
        assert SECRET_NAME not in text, (path, params)
        for row in results:
            assert account_id not in (
                row.get("id") if path == "/api/v1/accounts/" else None,
                row.get("account"),
                (row.get("account") or {}).get("id") if isinstance(row.get("account"), dict) else None,
            ), (path, params, row)


def test_the_owner_does_see_them(world, alice):
    """The same lists are not empty for the owner: the scoping test above can fail."""
    client = _session(alice)
    account_id = world.ids["int:account_id"]

    def shows_the_account(path: str) -> bool:
        body = client.get(path).json()
        if SECRET_NAME in json.dumps(body):
            return True
        results = body["results"] if isinstance(body, dict) and "results" in body else body
        return any(
            account_id
            in (
                row.get("id") if path == "/api/v1/accounts/" else None,
                row.get("account"),
                (row.get("account") or {}).get("id") if isinstance(row.get("account"), dict) else None,
            )
            for row in results
        )

    # Matching the account's id as a field, not as a substring: "1" is in every JSON body.
    found = [path for path in API_LISTS if shows_the_account(path)]
    assert found == API_LISTS


@pytest.mark.parametrize(
    "page",
    [
        "/accounts/",
        "/accounts/?q=Northwind",
        "/accounts/?q=northwind-retail",
        "/worklist/",
        "/worklist/?q=Northwind",
        "/",
    ],
)
def test_list_pages_show_nothing_of_an_account_someone_else_owns(world, bob, client, page):
    client.force_login(bob)
    response = client.get(page, follow=True)
    assert response.status_code == 200
    assert SECRET_NAME not in response.content.decode()


def test_an_ae_sees_only_their_own_handoffs(world, tina, tom, client):
    client.force_login(tina)
    assert SECRET_NAME not in client.get("/handoffs/").content.decode()
    client.force_login(tom)
    assert SECRET_NAME in client.get("/handoffs/").content.decode()
