"""Touchpoints through the API: validation field by field, ownership, the delivery they record."""

from __future__ import annotations

import pytest

from engagement.models import EntitlementCoverage, ModuleDelivery, Touchpoint
from tests.engagement.factories import tiered_account
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/touchpoints/"


@pytest.fixture
def account(alice, tom):
    return tiered_account("MM1", csm=alice, ae=tom)


def payload(account, **fields):
    return {
        "account": account.pk,
        "kind": "call",
        "occurred_at": "2026-11-20T15:00:00+01:00",
        "minutes": 30,
        "module": "catch_up",
        "notes": "Reviewed adoption.",
        **fields,
    }


def test_the_owning_csm_logs_a_touchpoint_that_delivers_a_module(
    api_client, alice, account, frozen_now
) -> None:
    contact = ContactFactory(account=account)
    api_client.force_authenticate(alice)
    response = api_client.post(URL, payload(account, participants=[contact.pk]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["module"], body["minutes"], body["logged_by"], body["participants"]) == (
        "catch_up",
        30,
        "alice",
        [contact.pk],
    )
    delivery = ModuleDelivery.objects.get(account=account)
    assert (delivery.source, delivery.source_id, str(delivery.delivered_on)) == (
        "touchpoint",
        body["id"],
        "2026-11-20",
    )
    assert (
        str(EntitlementCoverage.objects.get(account=account, module__code="catch_up").next_due_on)
        == "2026-12-20"
    )
    listed = api_client.get(URL, {"account": account.pk}).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"minutes": -1}, "minutes"),
        ({"occurred_at": "2026-11-24T12:00:00+00:00"}, "occurred_at"),  # the day after tomorrow
        ({"module": "no-such-module"}, "module"),
        ({"kind": "carrier-pigeon"}, "kind"),
        ({"minutes": "lots"}, "minutes"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"participants": [999_999]}, "participants"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(
    api_client, alice, account, frozen_now, fields, field
) -> None:
    api_client.force_authenticate(alice)
    response = api_client.post(URL, payload(account, **fields), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Touchpoint.objects.exists() and not ModuleDelivery.objects.exists()


def test_tomorrow_is_accepted(api_client, alice, account, frozen_now) -> None:
    api_client.force_authenticate(alice)
    response = api_client.post(
        URL, payload(account, occurred_at="2026-11-23T20:00:00+00:00", module=None), format="json"
    )
    assert response.status_code == 201


def test_every_error_is_reported_at_once(api_client, alice, account, frozen_now) -> None:
    api_client.force_authenticate(alice)
    later = "2099-01-01T10:00:00+00:00"  # valid input, refused by the service's rules
    response = api_client.post(URL, payload(account, occurred_at=later, module="nope"), format="json")
    assert set(response.json()) == {"occurred_at", "module"}


def test_only_owners_and_leaders_log(api_client, bob, tina, tom, lena, ivan, account, frozen_now) -> None:
    for person, status in ((bob, 400), (tina, 400), (ivan, 403)):  # others' accounts read as unknown
        api_client.force_authenticate(person)
        assert api_client.post(URL, payload(account), format="json").status_code == status
    for person in (tom, lena):
        api_client.force_authenticate(person)
        assert api_client.post(URL, payload(account, module=None), format="json").status_code == 201
    api_client.force_authenticate(bob)
    assert api_client.get(URL, {"account": account.pk}).json()["results"] == []


def test_anonymous_and_read_only_tokens_cannot_log(
    api_client, token_client, alice, account, frozen_now
) -> None:
    assert api_client.post(URL, payload(account), format="json").status_code == 401
    assert token_client(alice, read_only=True).post(URL, payload(account), format="json").status_code == 403
    assert token_client(alice).post(URL, payload(account), format="json").status_code == 201


def test_an_unknown_account_is_a_field_error(api_client, alice, frozen_now) -> None:
    api_client.force_authenticate(alice)
    response = api_client.post(
        URL,
        {"account": 123456, "kind": "call", "occurred_at": "2026-11-20T10:00:00Z", "minutes": 5},
        format="json",
    )
    assert response.status_code == 400 and "account" in response.json()
