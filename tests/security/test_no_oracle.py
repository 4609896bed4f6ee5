"""No oracle: for a person who may not see an object, "exists but not yours" and "does not exist"
give the same answer, on every page, fragment and API endpoint of the authorization matrix.

For each route with an object in its path, each role is asked about the world's object and about
an id that exists nowhere. Whenever the world's object is refused (403 or 404), the missing one
must be refused with the same status and the same body (ids aside). Objects referenced in an API
body (``account``) and contacts looked up by email or id are held to the same rule.
"""

from __future__ import annotations

import re

import pytest

from accounts.models import Account
from tests.factories import ContactFactory
from tests.security.matrix import build_world, payload, request, resolve_route
from tests.security.test_authorization_matrix import EXPECTED

MISSING = 987654321
OBJECT_ROUTES = [(m, r) for m, r, _ in EXPECTED if "<int:" in r]


@pytest.fixture
def world(alice, bob, tom, tina, lena, ivan, token_client):
    people = {"alice": alice, "bob": bob, "tom": tom, "tina": tina, "lena": lena, "ivan": ivan}
    return build_world(people, token_client)


def normalised(response, path: str) -> bytes:
    """The body with the request's own path, CSRF tokens and request ids taken out (they differ
    between any two requests)."""
    body = response.content.replace(path.encode(), b"<path>")
    body = re.sub(rb'(csrfmiddlewaretoken" value="|nonce=")[^"]+', rb"\1-", body)
    return re.sub(rb'("X-CSRFToken": ")[^"]+', rb"\1-", body)


def missing_world(world):
    """The same world, with every object id of a path replaced by one that exists nowhere."""
    ids = {key: (MISSING if key.startswith("int:") else value) for key, value in world.ids.items()}
    return type(world)(ids=ids, clients=world.clients, people=world.people)


# Who may not see the world's account (alice's and tom's): everyone else is allowed to learn that
# its objects exist.
STRANGERS = ("anonymous", "csm_other", "ae_other", "csm_no_role", "ae_no_role")


@pytest.mark.parametrize(("method", "route"), OBJECT_ROUTES, ids=[f"{m} {r}" for m, r in OBJECT_ROUTES])
def test_not_yours_and_not_there_answer_alike(world, method, route):
    nowhere = missing_world(world)
    for role in STRANGERS:
        present = request(world, role, method, route)
        if present.status_code not in (403, 404):
            continue  # they may see it (a journey, a policy): knowing it exists tells them nothing
        absent = request(nowhere, role, method, route, payload(world, method, route))
        assert absent.status_code == present.status_code, (
            f"{role}: {present.status_code} vs {absent.status_code}"
        )
        assert normalised(absent, resolve_route(nowhere, route)) == normalised(
            present, resolve_route(world, route)
        ), role


BODY_ROUTES = ["/api/v1/touchpoints/", "/api/v1/tasks/", "/api/v1/commitments/", "/api/v1/add-ons/"]


@pytest.mark.parametrize("route", BODY_ROUTES)
def test_an_account_in_a_body_that_is_not_yours_reads_as_unknown(world, route):
    theirs = Account.objects.get(name="Contoso Other").pk  # bob's and tina's
    for role in ("csm_owner", "ae_owner"):
        body = payload(world, "POST", route)
        present = request(world, role, "POST", route, {**body, "account": theirs})
        absent = request(world, role, "POST", route, {**body, "account": MISSING})
        assert present.status_code == absent.status_code, role
        assert present.json() == {"account": [f"Unknown account {theirs}."]}
        assert absent.json() == {"account": [f"Unknown account {MISSING}."]}


def test_a_contact_lookup_by_email_does_not_tell_whether_the_address_is_a_customers(world):
    theirs = ContactFactory(account=Account.objects.get(name="Contoso Other"), email="cfo@contoso.example")
    path = resolve_route(world, "/journeys/<int:journey_id>/steps/<int:step_id>/preview/")
    client = world.clients["csm_owner"]

    def answer(query: str) -> tuple[int, bytes]:
        response = client.get(path, {"contact": query})
        return response.status_code, normalised(response, path).replace(query.encode(), b"<query>")

    assert answer(theirs.email) == answer("nobody@nowhere.example")
    assert answer(theirs.email.upper()) == answer("NOBODY@NOWHERE.EXAMPLE")
    assert answer(str(theirs.pk)) == answer(str(MISSING))
    status, body = answer("9" * 5000)  # beyond any id (and Python's int parsing limit)
    assert status == 200 and b"No contact matches" in body
