"""Activities from the CRM, calendar or mailbox: POST /api/v1/touchpoints/sync/ upserts touchpoints
by (crm_source, external_id); they count like touchpoints logged by hand; replay changes nothing."""

from __future__ import annotations

import pytest

from engagement.models import EntitlementCoverage, ModuleDelivery, Touchpoint
from segmentation.services.economics import account_cost_to_serve
from tests.engagement.factories import tiered_account

pytestmark = pytest.mark.django_db
URL = "/api/v1/touchpoints/sync/"


@pytest.fixture
def account(alice, tom):
    return tiered_account("MM1", csm=alice, ae=tom, external_id="0015g00000XyZ12AAB")


def activity(**fields):
    return {
        "external_id": "00U5g00000AbCdE",
        "account_external_id": "0015g00000XyZ12AAB",
        "kind": "meeting",
        "occurred_at": "2026-11-20T10:00:00+00:00",
        "minutes": 45,
        "by": "alice",
        "module": "catch_up",
        "notes": "Quarterly review with the CFO",
        **fields,
    }


def sync(client, *records, crm_source="salesforce"):
    return client.post(URL, {"crm_source": crm_source, "records": list(records)}, format="json")


def test_activities_become_touchpoints_that_deliver_their_module(token_client, ivan, account, frozen_now):
    client = token_client(ivan)
    response = sync(
        client,
        activity(),
        activity(external_id="00U-2", kind="email", minutes=5, module=None, by="alice@csplatform.example"),
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "failed": 0, "errors": []}
    meeting = Touchpoint.objects.get(external_id="00U5g00000AbCdE")
    assert (
        meeting.crm_source,
        meeting.account,
        meeting.kind,
        meeting.minutes,
        meeting.logged_by.username,
    ) == (
        "salesforce",
        account,
        "meeting",
        45,
        "alice",
    )
    assert Touchpoint.objects.get(external_id="00U-2").logged_by.username == "alice"
    delivery = ModuleDelivery.objects.get(account=account)
    assert (delivery.source, delivery.source_id, str(delivery.delivered_on)) == (
        "touchpoint",
        meeting.pk,
        "2026-11-20",
    )
    coverage = EntitlementCoverage.objects.get(account=account, module__code="catch_up")
    assert str(coverage.next_due_on) == "2026-12-20"
    listed = client.get("/api/v1/touchpoints/", {"account": account.pk}).json()["results"]
    assert {(row["external_id"], row["crm_source"]) for row in listed} == {
        ("00U5g00000AbCdE", "salesforce"),
        ("00U-2", "salesforce"),
    }


def test_a_replay_changes_nothing(token_client, ivan, account, frozen_now):
    client = token_client(ivan)
    sync(client, activity(), activity(external_id="00U-2", module=None))
    before = list(Touchpoint.objects.order_by("pk").values())
    ledger = list(ModuleDelivery.objects.values())
    response = sync(client, activity(), activity(external_id="00U-2", module=None))
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 2, "failed": 0, "errors": []}
    assert list(Touchpoint.objects.order_by("pk").values()) == before
    assert list(ModuleDelivery.objects.values()) == ledger


def test_a_changed_activity_is_updated_and_its_delivery_follows(token_client, ivan, account, frozen_now):
    client = token_client(ivan)
    sync(client, activity())
    response = sync(client, activity(minutes=60, module="qbr", occurred_at="2026-11-21T09:00:00+00:00"))
    assert response.json()["updated"] == 1
    touchpoint = Touchpoint.objects.get()
    assert (touchpoint.minutes, touchpoint.module.code) == (60, "qbr")
    assert list(ModuleDelivery.objects.values_list("module__code", "delivered_on")) == [
        ("qbr", touchpoint.occurred_at.date())
    ]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"by": "nobody"}, "by", 'No active user with username or email "nobody".'),
        (
            {"account_external_id": "001-unknown"},
            "account_external_id",
            'No account with external_id "001-unknown"',
        ),
        ({"minutes": -5}, "minutes", "greater than or equal to 0"),
        ({"occurred_at": "2026-11-24T12:00:00+00:00"}, "occurred_at", "later than tomorrow"),
        ({"kind": "carrier-pigeon"}, "kind", "is not a valid choice"),
        ({"module": "no-such-module"}, "module", "Unknown service module 'no-such-module'."),
        ({"occurred_at": "last week"}, "occurred_at", "Datetime has wrong format"),
    ],
)
def test_a_bad_record_fails_alone_naming_the_field(
    token_client, ivan, account, frozen_now, fields, field, says
):
    response = sync(token_client(ivan), activity(external_id="good"), activity(external_id="bad", **fields))
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["failed"]) == (1, 1)
    [error] = body["errors"]
    assert (error["index"], error["external_id"]) == (1, "bad")
    assert says in " ".join(error["errors"][field])
    assert list(Touchpoint.objects.values_list("external_id", flat=True)) == ["good"]


def test_the_same_activity_twice_in_one_request_fails_the_later_one(token_client, ivan, account, frozen_now):
    body = sync(token_client(ivan), activity(), activity(minutes=90)).json()
    assert (body["created"], body["failed"]) == (1, 1)
    assert body["errors"][0]["index"] == 1 and "external_id" in body["errors"][0]["errors"]
    assert Touchpoint.objects.get().minutes == 45


def test_an_activity_of_another_crm_is_another_touchpoint(token_client, ivan, account, frozen_now):
    client = token_client(ivan)
    sync(client, activity())
    body = sync(client, activity(), crm_source="hubspot").json()
    assert body["failed"] == 1  # the account is known under salesforce only
    assert "account_external_id" in body["errors"][0]["errors"]


def test_synced_minutes_count_for_cost_to_serve_like_logged_ones(
    token_client, ivan, alice, account, frozen_now
):
    before = account_cost_to_serve(account_id=account.pk)["cost_to_serve"]
    sync(token_client(ivan), activity(minutes=120, module=None))
    synced = account_cost_to_serve(account_id=account.pk)["cost_to_serve"]
    assert synced > before
    other = tiered_account("MM1", csm=alice, external_id="other")
    token_client(alice).post(
        "/api/v1/touchpoints/",
        {"account": other.pk, "kind": "meeting", "occurred_at": "2026-11-20T10:00:00+00:00", "minutes": 120},
        format="json",
    )
    assert account_cost_to_serve(account_id=other.pk)["cost_to_serve"] == synced


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("lena", 403), ("ivan", 200)])
def test_only_integrations_sync_activities(request, token_client, account, frozen_now, who, status):
    assert sync(token_client(request.getfixturevalue(who)), activity()).status_code == status


def test_more_than_1000_records_is_a_400_that_says_so(token_client, ivan, account):
    response = sync(token_client(ivan), *[activity(external_id=str(i)) for i in range(1001)])
    assert response.status_code == 400
    assert "At most 1000 records" in response.json()["records"][0]
    assert not Touchpoint.objects.exists()


def test_a_past_activity_forgets_the_renewal_segments_it_can_change(token_client, ivan, account, frozen_now):
    from accounts.models import RenewalOutcome
    from engagement.retention.services import renewal_segments_settle
    from tests.factories import RenewalOutcomeFactory

    before, after = (
        RenewalOutcomeFactory(account=account, renewal_date=day) for day in ("2026-11-01", "2026-11-21")
    )
    assert renewal_segments_settle() == 2
    # A meeting of 2026-11-20 synced today: the coverage kept before the renewal of 11-21 may change.
    assert sync(token_client(ivan), activity()).status_code == 200
    kept = dict(RenewalOutcome.objects.values_list("pk", "segments_at_renewal"))
    assert kept[before.pk] is not None and kept[after.pk] is None
