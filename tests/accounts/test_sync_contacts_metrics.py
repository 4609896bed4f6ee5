"""POST /api/v1/contacts/sync/ and /api/v1/metrics/sync/: upserts by natural key, per-record errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Contact, UsageSnapshot
from accounts.signals import contacts_changed, usage_received
from tests.factories import AccountFactory, ContactFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/sync/"
METRICS = "/api/v1/metrics/sync/"


def post(client, url: str, records: list, crm_source: str = "salesforce"):
    return client.post(url, {"crm_source": crm_source, "records": records}, format="json")


@pytest.fixture
def account():
    return AccountFactory(crm_source="salesforce", external_id="0015g00000XyZ12AAB")


def capture(signal):
    sent: list[list[int]] = []

    def receiver(sender, account_ids, **kwargs):
        sent.append(account_ids)

    signal.connect(receiver, weak=False)
    return sent, lambda: signal.disconnect(receiver)


# --- contacts -----------------------------------------------------------------------------------


def test_it_creates_contacts_from_the_example_record(integration_client, account):
    response = post(
        integration_client,
        CONTACTS,
        [
            {
                "external_id": "0015g00000XyZ12AAB",
                "email": "ana@northwind.example",
                "name": "Ana Ruiz",
                "role": "Head of Marketing",
                "is_champion": True,
                "is_executive": False,
            }
        ],
    )
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "failed": 0, "errors": []}
    contact = Contact.objects.get(account=account)
    assert (contact.email, contact.name, contact.role, contact.is_champion) == (
        "ana@northwind.example",
        "Ana Ruiz",
        "Head of Marketing",
        True,
    )


def test_contacts_upsert_by_account_and_email_case_insensitively(integration_client, account):
    existing = ContactFactory(account=account, email="Ana@Northwind.example", name="Ana", is_champion=False)
    body = post(
        integration_client,
        CONTACTS,
        [{"external_id": account.external_id, "email": "ana@northwind.example", "is_champion": True}],
    ).json()
    assert (body["created"], body["updated"]) == (0, 1)
    existing.refresh_from_db()
    assert existing.is_champion is True
    assert existing.name == "Ana"  # left out, kept
    assert Contact.objects.count() == 1


def test_unknown_account_and_invalid_email_fail_their_record(integration_client, account):
    body = post(
        integration_client,
        CONTACTS,
        [
            {"external_id": "nope", "email": "a@x.example"},
            {"external_id": account.external_id, "email": "not-an-email"},
            {"external_id": account.external_id, "email": "ok@x.example"},
        ],
    ).json()
    assert body["created"] == 1
    assert [(e["index"], list(e["errors"])) for e in body["errors"]] == [(0, ["external_id"]), (1, ["email"])]
    assert body["errors"][1]["errors"]["email"] == ["Enter a valid email address."]
    assert list(Contact.objects.values_list("email", flat=True)) == ["ok@x.example"]


def test_a_contact_who_unsubscribed_stays_unsubscribed(integration_client, account):
    unsubscribed_at = timezone.now()
    contact = ContactFactory(
        account=account, email="gone@x.example", email_opt_out=True, unsubscribed_at=unsubscribed_at
    )
    body = post(
        integration_client,
        CONTACTS,
        [
            {
                "external_id": account.external_id,
                "email": "gone@x.example",
                "email_opt_out": False,
                "name": "Gone",
            }
        ],
    ).json()
    assert body["updated"] == 1
    contact.refresh_from_db()
    assert contact.email_opt_out is True
    assert contact.unsubscribed_at == unsubscribed_at
    assert contact.name == "Gone"


def test_a_sync_may_record_an_opt_out(integration_client, account):
    contact = ContactFactory(account=account, email="stop@x.example")
    post(
        integration_client,
        CONTACTS,
        [{"external_id": account.external_id, "email": "stop@x.example", "email_opt_out": True}],
    )
    contact.refresh_from_db()
    assert contact.email_opt_out is True


def test_contact_replay_is_unchanged_and_duplicates_fail(integration_client, account):
    records = [
        {
            "external_id": account.external_id,
            "email": "a@x.example",
            "name": "A",
            "time_zone": "Europe/Madrid",
        },
        {"external_id": account.external_id, "email": "A@x.example", "name": "A again"},
        {"external_id": account.external_id, "email": "b@x.example", "time_zone": "Mars/Olympus"},
    ]
    first = post(integration_client, CONTACTS, records).json()
    assert first["created"] == 1
    assert [(e["index"], list(e["errors"])) for e in first["errors"]] == [(1, ["email"]), (2, ["time_zone"])]
    second = post(integration_client, CONTACTS, records).json()
    assert (second["created"], second["updated"], second["unchanged"], second["failed"]) == (0, 0, 1, 2)


def test_contact_changes_are_announced_after_commit(
    integration_client, account, django_capture_on_commit_callbacks
):
    sent, disconnect = capture(contacts_changed)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post(integration_client, CONTACTS, [{"external_id": account.external_id, "email": "c@x.example"}])
        with django_capture_on_commit_callbacks(execute=True):
            post(integration_client, CONTACTS, [{"external_id": account.external_id, "email": "c@x.example"}])
    finally:
        disconnect()
    assert sent == [[account.pk]]


def test_a_1000_contact_sync_is_a_handful_of_queries(integration_client, django_assert_max_num_queries):
    accounts = AccountFactory.create_batch(10, crm_source="salesforce")
    records = [
        {"external_id": accounts[i % 10].external_id, "email": f"p{i}@x.example", "name": f"P{i}"}
        for i in range(1000)
    ]
    with django_assert_max_num_queries(12):
        body = post(integration_client, CONTACTS, records).json()
    assert body["created"] == 1000


# --- metrics ------------------------------------------------------------------------------------


def test_it_creates_a_snapshot_from_the_example_record(integration_client, account):
    response = post(
        integration_client,
        METRICS,
        [
            {
                "external_id": "0015g00000XyZ12AAB",
                "period_start": "2026-11-01",
                "active_users": 40,
                "licensed_seats": 50,
                "support_tickets": 3,
                "feature_adoption": "0.60",
            }
        ],
    )
    assert response.status_code == 200
    assert response.json()["created"] == 1
    snapshot = UsageSnapshot.objects.get(account=account)
    assert snapshot.period_start == dt.date(2026, 11, 1)
    assert (snapshot.active_users, snapshot.licensed_seats, snapshot.support_tickets) == (40, 50, 3)
    assert snapshot.feature_adoption == Decimal("0.600")


def test_snapshots_upsert_by_account_and_period(integration_client, account):
    snapshot = UsageSnapshotFactory(
        account=account, period_start=dt.date(2026, 11, 2), active_users=10, support_tickets=7
    )
    records = [{"external_id": account.external_id, "period_start": "2026-11-02", "active_users": 12}]
    assert post(integration_client, METRICS, records).json()["updated"] == 1
    snapshot.refresh_from_db()
    assert (snapshot.active_users, snapshot.support_tickets) == (12, 7)
    assert post(integration_client, METRICS, records).json()["unchanged"] == 1


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"active_users": -1}, "active_users"),
        ({"licensed_seats": "many"}, "licensed_seats"),
        ({"support_tickets": 2**40}, "support_tickets"),
        ({"feature_adoption": "1.2"}, "feature_adoption"),
        ({"feature_adoption": "-0.1"}, "feature_adoption"),
        ({"period_start": "last week"}, "period_start"),
        ({"external_id": "unknown"}, "external_id"),
    ],
)
def test_each_metric_rule_fails_the_record_alone(integration_client, account, fields, error_field):
    good = {"external_id": account.external_id, "period_start": "2026-11-09", "active_users": 5}
    bad = {**good, "period_start": "2026-11-16", **fields}
    body = post(integration_client, METRICS, [good, bad]).json()
    assert body["created"] == 1
    assert [(e["index"], list(e["errors"])) for e in body["errors"]] == [(1, [error_field])]
    assert UsageSnapshot.objects.count() == 1


def test_a_duplicate_period_later_in_the_request_fails(integration_client, account):
    records = [
        {"external_id": account.external_id, "period_start": "2026-11-02", "active_users": 1},
        {"external_id": account.external_id, "period_start": "2026-11-02", "active_users": 2},
    ]
    body = post(integration_client, METRICS, records).json()
    assert (body["created"], body["failed"]) == (1, 1)
    assert UsageSnapshot.objects.get().active_users == 1


def test_usage_is_announced_after_commit(integration_client, account, django_capture_on_commit_callbacks):
    sent, disconnect = capture(usage_received)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post(
                integration_client,
                METRICS,
                [{"external_id": account.external_id, "period_start": "2026-11-02"}],
            )
    finally:
        disconnect()
    assert sent == [[account.pk]]


def test_metrics_over_1000_records_are_refused(integration_client, account):
    records = [{"external_id": account.external_id, "period_start": "2026-11-02"}] * 1001
    response = post(integration_client, METRICS, records)
    assert response.status_code == 400
    assert "At most 1000 records" in response.json()["records"][0]


def test_only_integration_users_push_metrics_and_contacts(alice, lena, token_client, account):
    record = {"external_id": account.external_id, "period_start": "2026-11-02"}
    for user in (alice, lena):
        assert post(token_client(user), METRICS, [record]).status_code == 403
        assert (
            post(
                token_client(user), CONTACTS, [{"external_id": account.external_id, "email": "a@x.example"}]
            ).status_code
            == 403
        )
    assert not UsageSnapshot.objects.exists()


def test_a_1000_snapshot_sync_is_a_handful_of_queries(integration_client, django_assert_max_num_queries):
    accounts = AccountFactory.create_batch(40, crm_source="salesforce")
    start = dt.date(2026, 5, 4)
    records = [
        {
            "external_id": accounts[i % 40].external_id,
            "period_start": (start + dt.timedelta(weeks=i // 40)).isoformat(),
            "active_users": i % 50,
            "licensed_seats": 50,
            "feature_adoption": "0.5",
        }
        for i in range(1000)
    ]
    with django_assert_max_num_queries(12):
        body = post(integration_client, METRICS, records).json()
    assert body["created"] == 1000
