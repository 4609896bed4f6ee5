"""POST /api/v1/accounts/sync/: upsert by CRM id, per-record errors, replay, limits, query count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts import queries as account_queries
from accounts.models import Account, AccountFieldChange
from accounts.signals import accounts_changed
from csplatform.models import PendingDispatch
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SYNC = "/api/v1/accounts/sync/"


def record(external_id: str, **fields) -> dict:
    return {"external_id": external_id, "name": f"Account {external_id}", **fields}


def sync(client, records: list, crm_source: str = "salesforce"):
    return client.post(SYNC, {"crm_source": crm_source, "records": records}, format="json")


@pytest.fixture
def received():
    """The accounts_changed signals sent, as (account_ids, fields)."""
    sent: list[tuple[list[int], set[str]]] = []

    def receiver(sender, account_ids, fields, **kwargs):
        sent.append((account_ids, fields))

    accounts_changed.connect(receiver)
    yield sent
    accounts_changed.disconnect(receiver)


def test_it_creates_accounts_with_the_example_record(integration_client, alice, tom):
    response = sync(
        integration_client,
        [
            {
                "external_id": "0015g00000XyZ12AAB",
                "name": "Northwind Retail",
                "acv": "62000.00",
                "domain": "northwind.example",
                "vertical": "retail",
                "region": "EMEA",
                "lifecycle_stage": "adopting",
                "renewal_date": "2027-03-31",
                "csm": "alice",
                "ae": "tom",
            }
        ],
    )
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "failed": 0, "errors": []}
    account = Account.objects.get(crm_source="salesforce", external_id="0015g00000XyZ12AAB")
    assert account.acv == Decimal("62000.00")
    assert (account.csm, account.ae) == (alice, tom)
    assert account.renewal_date == dt.date(2027, 3, 31)


def test_valid_records_apply_and_invalid_ones_are_listed_by_index(integration_client):
    response = sync(
        integration_client,
        [record("X-1", acv="100"), record("X-2", acv="-5"), record("X-3"), {"external_id": "X-4"}],
    )
    assert response.status_code == 200
    assert response.json() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 2,
        "errors": [
            {
                "index": 1,
                "external_id": "X-2",
                "errors": {"acv": ["Ensure this value is greater than or equal to 0."]},
            },
            {"index": 3, "external_id": "X-4", "errors": {"name": ["This field is required."]}},
        ],
    }
    assert set(Account.objects.values_list("external_id", flat=True)) == {"X-1", "X-3"}


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"acv": "not money"}, "acv"),
        ({"acv": "1234567890123.00"}, "acv"),
        ({"acv": "1.005"}, "acv"),
        ({"name": ""}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"domain": "d" * 256}, "domain"),
        ({"vertical": "farming"}, "vertical"),
        ({"region": "Mars"}, "region"),
        ({"lifecycle_stage": "asleep"}, "lifecycle_stage"),
        ({"renewal_date": "31/03/2027"}, "renewal_date"),
        ({"contract_start": "2027-01-01", "renewal_date": "2026-01-01"}, "renewal_date"),
        ({"csm": "nobody-here"}, "csm"),
        ({"ae": "ghost@example.com"}, "ae"),
        ({"external_id": "e" * 101}, "external_id"),
        ({"external_id": None}, "external_id"),
        ({"name": "nul\x00byte"}, "name"),
        ({"name": None}, "name"),
        ({"acv": "1e400"}, "acv"),
        ({"acv": "NaN"}, "acv"),
        ({"acv": True}, "acv"),
        ({"renewal_date": "2027-02-30"}, "renewal_date"),
        ({"csm": ["alice"]}, "csm"),
    ],
)
def test_each_field_rule_fails_the_record_alone(integration_client, fields, error_field):
    existing = AccountFactory(external_id="KEEP", acv=Decimal("100"))
    bad = {**record("BAD"), **fields}
    response = sync(integration_client, [bad, record("KEEP", acv="200")])
    body = response.json()
    assert response.status_code == 200
    assert body["failed"] == 1
    assert body["updated"] == 1
    assert body["errors"][0]["index"] == 0
    assert list(body["errors"][0]["errors"]) == [error_field]
    assert not Account.objects.exclude(pk=existing.pk).exists()
    existing.refresh_from_db()
    assert existing.acv == Decimal("200")


def test_a_record_that_is_not_an_object_fails_alone(integration_client):
    response = sync(integration_client, ["just a string", record("OK-1")])
    body = response.json()
    assert body["created"] == 1
    assert body["errors"] == [
        {
            "index": 0,
            "external_id": None,
            "errors": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
        }
    ]


def test_the_same_external_id_twice_fails_the_later_ones(integration_client):
    response = sync(
        integration_client, [record("D-1", acv="10"), record("D-2"), record("D-1", acv="20"), record("D-1")]
    )
    body = response.json()
    assert body["created"] == 2
    assert [error["index"] for error in body["errors"]] == [2, 3]
    assert "Duplicate of record 0" in body["errors"][0]["errors"]["external_id"][0]
    assert Account.objects.get(external_id="D-1").acv == Decimal("10")


def test_replaying_an_identical_request_changes_nothing(
    integration_client, alice, received, django_capture_on_commit_callbacks
):
    records = [
        record(f"R-{i}", acv=f"{i * 1000}.00", csm="alice", renewal_date="2027-01-31") for i in range(5)
    ]
    records.append(record("R-bad", acv="-1"))
    with django_capture_on_commit_callbacks(execute=True):
        first = sync(integration_client, records).json()
    assert (first["created"], first["failed"]) == (5, 1)
    before = {a.pk: a.updated_at for a in Account.objects.all()}
    history_before = AccountFieldChange.objects.count()
    received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        second = sync(integration_client, records).json()
    assert second == {"created": 0, "updated": 0, "unchanged": 5, "failed": 1, "errors": second["errors"]}
    assert {a.pk: a.updated_at for a in Account.objects.all()} == before
    assert AccountFieldChange.objects.count() == history_before
    assert received == []


def test_owners_by_email_replay_as_unchanged(integration_client, alice):
    records = [record("O-1", csm="alice@csplatform.example")]
    assert sync(integration_client, records).json()["created"] == 1
    assert sync(integration_client, records).json()["unchanged"] == 1
    assert Account.objects.get(external_id="O-1").csm == alice


def test_fields_left_out_keep_their_values(integration_client, alice):
    account = AccountFactory(
        external_id="P-1",
        name="Partial",
        domain="partial.example",
        acv=Decimal("5000"),
        csm=alice,
        renewal_date=dt.date(2027, 6, 30),
    )
    response = sync(integration_client, [{"external_id": "P-1", "acv": "6000"}])
    assert response.json()["updated"] == 1
    account.refresh_from_db()
    assert account.acv == Decimal("6000")
    assert (account.name, account.domain, account.csm, account.renewal_date) == (
        "Partial",
        "partial.example",
        alice,
        dt.date(2027, 6, 30),
    )


def test_null_clears_an_owner_and_a_date(integration_client, alice):
    account = AccountFactory(external_id="N-1", csm=alice, renewal_date=dt.date(2027, 6, 30))
    sync(integration_client, [{"external_id": "N-1", "csm": None, "renewal_date": None}])
    account.refresh_from_db()
    assert account.csm is None
    assert account.renewal_date is None


def test_the_tier_is_not_touched_by_a_sync(integration_client):
    account = AccountFactory(
        external_id="T-1", tier_code="MM2", tier_name="Mid-Market Tier 2", tier_source="policy"
    )
    sync(integration_client, [record("T-1", acv="90000")])
    account.refresh_from_db()
    assert account.tier_code == "MM2"


def test_accounts_are_keyed_by_crm_source(integration_client):
    AccountFactory(crm_source="hubspot", external_id="SAME", acv=Decimal("1"))
    body = sync(integration_client, [record("SAME", acv="2")], crm_source="salesforce").json()
    assert body["created"] == 1
    assert Account.objects.get(crm_source="hubspot").acv == Decimal("1")


def test_tracked_changes_are_recorded_with_the_caller_and_source(ivan, integration_client, alice, bob, tom):
    account = AccountFactory(
        external_id="H-1",
        acv=Decimal("1000"),
        csm=alice,
        ae=None,
        lifecycle_stage="onboarding",
        renewal_date=dt.date(2027, 1, 1),
        domain="old.example",
    )
    body = sync(
        integration_client,
        [
            record(
                "H-1",
                acv="2500.5",
                csm="bob",
                ae="tom",
                lifecycle_stage="adopting",
                renewal_date="2027-02-01",
                domain="new.example",
                name=account.name,
            )
        ],
    ).json()
    assert body["updated"] == 1
    changes = {
        c.field: (c.old_value, c.new_value) for c in AccountFieldChange.objects.filter(account=account)
    }
    assert changes == {
        "acv": ("1000.00", "2500.50"),
        "csm": ("alice", "bob"),
        "ae": ("", "tom"),
        "lifecycle_stage": ("onboarding", "adopting"),
        "renewal_date": ("2027-01-01", "2027-02-01"),
    }
    assert set(AccountFieldChange.objects.values_list("source", flat=True)) == {"sync:salesforce"}
    assert set(AccountFieldChange.objects.values_list("changed_by", flat=True)) == {ivan.pk}


def test_created_and_changed_accounts_are_announced_in_the_transaction_and_followed_up_after_commit(
    integration_client, received, django_capture_on_commit_callbacks
):
    acv_changed = AccountFactory(external_id="S-1", acv=Decimal("1"))
    stage_changed = AccountFactory(external_id="S-2", lifecycle_stage="onboarding")
    untracked = AccountFactory(external_id="S-3", domain="a.example")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sync(
            integration_client,
            [
                {"external_id": "S-1", "acv": "99"},
                {"external_id": "S-2", "lifecycle_stage": "mature"},
                {"external_id": "S-3", "domain": "b.example"},
                record("S-4"),
            ],
        )
    created = Account.objects.get(external_id="S-4")
    # Announced inside the sync's transaction, before the commit ...
    assert received == [
        ([created.pk], {"created"}),
        (sorted([acv_changed.pk, stage_changed.pk]), {"acv", "lifecycle_stage"}),
    ]
    assert all(untracked.pk not in ids for ids, _ in received)
    # ... so the follow-up is in the task outbox, published once the commit happened.
    queued = dict(PendingDispatch.objects.values_list("pk", "task_name"))
    assert "segmentation.reevaluate_accounts" in queued.values()
    for callback in callbacks:
        callback()
    assert not PendingDispatch.objects.filter(pk__in=queued).exists()


def test_more_than_1000_records_is_a_400_that_says_so(integration_client):
    response = sync(integration_client, [record(f"M-{i}") for i in range(1001)])
    assert response.status_code == 400
    assert "At most 1000 records" in response.json()["records"][0]
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"records": []},
        {"crm_source": "salesforce"},
        {"crm_source": "", "records": []},
        {"crm_source": "salesforce", "records": {"external_id": "X"}},
        [],
    ],
)
def test_a_bad_envelope_is_a_400(integration_client, body):
    response = integration_client.post(SYNC, body, format="json")
    assert response.status_code == 400


def test_malformed_json_and_other_content_types_are_refused(integration_client):
    assert integration_client.post(SYNC, data="{", content_type="application/json").status_code == 400
    assert integration_client.post(SYNC, data="a,b", content_type="text/csv").status_code == 415


def test_a_sync_body_over_the_limit_is_a_413(integration_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    response = sync(integration_client, [record(f"B-{i}", domain="x" * 200) for i in range(400)])
    assert response.status_code == 413
    assert not Account.objects.exists()


def test_only_integration_users_may_sync(alice, lena, tom, ivan, token_client):
    for user in (alice, lena, tom):
        assert sync(token_client(user), [record("Z-1")]).status_code == 403
    assert sync(token_client(ivan, read_only=True), [record("Z-1")]).status_code == 403
    assert not Account.objects.exists()


def test_anonymous_sync_is_a_401(api_client):
    assert sync(api_client, [record("Z-1")]).status_code == 401


def test_a_1000_record_sync_is_a_handful_of_queries(
    integration_client, alice, bob, tom, django_assert_max_num_queries
):
    for i in range(500):
        AccountFactory(crm_source="salesforce", external_id=f"Q-{i}", acv=Decimal("100"), csm=alice)
    owners = ["alice", "bob", "Bob@csplatform.example", None]
    records = [
        record(f"Q-{i}", acv=f"{100 + i % 3}.00", csm=owners[i % 4], lifecycle_stage="mature", region="APAC")
        for i in range(1000)
    ]
    # Set-based writes, plus one outbox row per follow-up (tier re-evaluation, health, onboarding
    # playbooks, CSM portfolio, coverage of a changed lifecycle) per 500 changed accounts; one
    # query reads the roles of every owner named in the batch.
    with django_assert_max_num_queries(19):
        response = sync(integration_client, records)
    body = response.json()
    assert body["failed"] == 0
    assert body["created"] == 500
    assert body["updated"] == 500
    assert Account.objects.count() == 500 + 500
    assert Account.objects.filter(region="APAC").count() == 1000
    with django_assert_max_num_queries(15):
        replay = sync(integration_client, records).json()
    assert replay["unchanged"] == 1000


def test_an_acv_change_by_sync_re_evaluates_the_tier(integration_client, django_capture_on_commit_callbacks):
    # Segmentation listens to accounts_changed; with eager Celery its task runs at commit.
    with django_capture_on_commit_callbacks(execute=True):
        sync(integration_client, [record("TIER-1", acv="80000")])
    account = Account.objects.get(external_id="TIER-1")
    assert account.tier_code == "ENT"
    with django_capture_on_commit_callbacks(execute=True):
        sync(integration_client, [record("TIER-1", acv="20000")])
    account.refresh_from_db()
    assert account.tier_code != "ENT"


def test_the_whole_request_is_one_transaction(integration_client, monkeypatch):
    AccountFactory(external_id="TX-1", acv=Decimal("1"))

    def history_write_fails(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(account_queries, "field_changes_insert", history_write_fails)
    with pytest.raises(RuntimeError):
        sync(integration_client, [record("TX-1", acv="2"), record("TX-2")])
    assert Account.objects.get(external_id="TX-1").acv == Decimal("1")
    assert not Account.objects.filter(external_id="TX-2").exists()
