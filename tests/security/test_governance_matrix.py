"""The governance rows of the authorization matrix: the same routes as ``test_authorization_matrix``,
with the bodies that try to walk around a rule, as every role.

- tier inputs (ACV, lifecycle stage, renewal date): CS Leadership and the integration write them
  (200); the account's CSM gets 202, their change waiting as an input proposal; nobody else gets in;
- owners must hold the role of the field: an AE, a leader or the integration user named as CSM (or a
  CSM as AE) is a 400 naming the field, for every role that may set owners at all.

Columns, as in ``ROLES``: anonymous, CSM owner, other CSM, AE owner, other AE, leader, integration,
read-only token, CSM without role, AE without role.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Account, AccountInputProposal
from tests.security.matrix import ROLES, build_world, request

ACCOUNT = "/api/v1/accounts/<int:pk>/"

# fmt: off
GOVERNANCE = [
    ("PATCH", ACCOUNT, {"acv": "90000.00"}, "401 202 404 403 404 200 200 403 403 403"),
    ("PATCH", ACCOUNT, {"lifecycle_stage": "mature"}, "401 202 404 403 404 200 200 403 403 403"),
    ("PATCH", ACCOUNT, {"renewal_date": "2031-01-31"}, "401 202 404 403 404 200 200 403 403 403"),
    ("PATCH", ACCOUNT, {"domain": "northwind.example"}, "401 200 404 403 404 200 200 403 403 403"),
    ("PATCH", ACCOUNT, {"csm": "tom"}, "401 403 404 403 404 400 400 403 403 403"),
    ("PATCH", ACCOUNT, {"csm": "lena"}, "401 403 404 403 404 400 400 403 403 403"),
    ("PATCH", ACCOUNT, {"csm": "ivan"}, "401 403 404 403 404 400 400 403 403 403"),
    ("PATCH", ACCOUNT, {"ae": "alice"}, "401 403 404 403 404 400 400 403 403 403"),
    ("PATCH", ACCOUNT, {"csm": "bob"}, "401 403 404 403 404 200 200 403 403 403"),
    ("POST", "/api/v1/accounts/", {"external_id": "G-1", "name": "G", "csm": "tom"},
     "401 403 403 403 403 400 400 403 403 403"),
    ("POST", "/api/v1/accounts/", {"external_id": "G-2", "name": "G", "ae": "bob"},
     "401 403 403 403 403 400 400 403 403 403"),
]
# fmt: on


@pytest.fixture
def world(alice, bob, tom, tina, lena, ivan, token_client):
    people = {"alice": alice, "bob": bob, "tom": tom, "tina": tina, "lena": lena, "ivan": ivan}
    return build_world(people, token_client)


@pytest.mark.parametrize(
    ("method", "route", "body", "statuses"),
    GOVERNANCE,
    ids=[f"{m} {r} {sorted(b.items())}" for m, r, b, _ in GOVERNANCE],
)
def test_governance_matrix(world, method, route, body, statuses):
    expected = dict(zip(ROLES, (int(s) for s in statuses.split()), strict=True))
    actual = {role: request(world, role, method, route, body).status_code for role in ROLES}
    assert actual == expected


def test_a_refused_owner_is_named_and_nothing_changes(world):
    account = Account.objects.get(pk=world.ids["int:account_id"])
    response = request(world, "leader", "PATCH", ACCOUNT, {"csm": "tom", "name": "Renamed"})
    assert response.status_code == 400
    assert response.json() == {
        "csm": ['"tom" does not hold the CSM role, so cannot own accounts as CSM.'],
    }
    account.refresh_from_db()
    assert (account.csm.username, account.name) == ("alice", "Northwind Retail")


def test_the_csms_tier_input_change_is_a_proposal_and_changes_nothing_else(world):
    response = world.clients["csm_owner"].patch(
        world.url("/api/v1/accounts/<int:account_id>/"), {"acv": "90000.00"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["input_proposal"]["changes"] == {"acv": "90000.00"}
    account = Account.objects.get(pk=world.ids["int:account_id"])
    assert account.acv == Decimal("62000.00")
    # The world's pending proposal took the new value: one pending proposal per account.
    pending = AccountInputProposal.objects.get(account=account, status="pending")
    assert pending.changes == {"acv": "90000.00"} and pending.requested_by.username == "alice"


def test_sync_fails_a_record_whose_owner_lacks_the_role(world):
    body = {
        "crm_source": "salesforce",
        "records": [
            {"external_id": "S-1", "name": "One", "csm": "tom"},
            {"external_id": "S-2", "name": "Two", "ae": "lena"},
            {"external_id": "S-3", "name": "Three", "csm": "bob", "ae": "tina"},
        ],
    }
    response = request(world, "integration", "POST", "/api/v1/accounts/sync/", body)
    assert response.status_code == 200
    result = response.json()
    assert (result["created"], result["failed"]) == (1, 2)
    assert [(e["external_id"], sorted(e["errors"])) for e in result["errors"]] == [
        ("S-1", ["csm"]),
        ("S-2", ["ae"]),
    ]
