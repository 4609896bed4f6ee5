"""The Django admin for accounts: searchable, filterable, and saving through the account services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Account, AccountFieldChange
from accounts.signals import accounts_changed
from tests.factories import AccountFactory, ContactFactory, UsageSnapshotFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def account_form(account: Account, **changes) -> dict:
    data = {
        "name": account.name,
        "domain": account.domain,
        "vertical": account.vertical,
        "region": account.region,
        "acv": str(account.acv),
        "lifecycle_stage": account.lifecycle_stage,
        "contract_start": account.contract_start.isoformat() if account.contract_start else "",
        "renewal_date": account.renewal_date.isoformat() if account.renewal_date else "",
        "csm": account.csm_id or "",
        "ae": account.ae_id or "",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "field_changes-TOTAL_FORMS": "0",
        "field_changes-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_admin_edits_go_through_the_service(
    admin_client, operator, alice, django_capture_on_commit_callbacks
):
    account = AccountFactory(acv=Decimal("20000"), csm=None)
    received = []

    def receiver(sender, account_ids, fields, **kwargs):
        received.append((account_ids, fields))

    accounts_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                f"/admin/accounts/account/{account.pk}/change/",
                account_form(account, acv="75000.00", csm=alice.pk),
            )
    finally:
        accounts_changed.disconnect(receiver)
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.acv == Decimal("75000.00")
    assert account.csm == alice
    changes = {
        c.field: (c.old_value, c.new_value, c.source, c.changed_by) for c in AccountFieldChange.objects.all()
    }
    assert changes == {
        "acv": ("20000.00", "75000.00", "admin", operator),
        "csm": ("", "alice", "admin", operator),
    }
    assert received == [([account.pk], {"acv", "csm"})]


def test_admin_creates_accounts_through_the_service(admin_client, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, account_ids, fields, **kwargs):
        received.append(fields)

    accounts_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                "/admin/accounts/account/add/",
                {
                    "name": "Admin Co",
                    "crm_source": "manual",
                    "external_id": "ADM-1",
                    "domain": "",
                    "vertical": "",
                    "region": "",
                    "acv": "1000",
                    "lifecycle_stage": "onboarding",
                    "contacts-TOTAL_FORMS": "0",
                    "contacts-INITIAL_FORMS": "0",
                    "field_changes-TOTAL_FORMS": "0",
                    "field_changes-INITIAL_FORMS": "0",
                },
            )
    finally:
        accounts_changed.disconnect(receiver)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Account.objects.get(external_id="ADM-1").acv == Decimal("1000")
    assert received == [{"created"}]


def test_admin_refuses_a_negative_acv(admin_client):
    account = AccountFactory(acv=Decimal("5"))
    response = admin_client.post(
        f"/admin/accounts/account/{account.pk}/change/", account_form(account, acv="-1")
    )
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.acv == Decimal("5")


def test_admin_lists_search_and_filter_accounts(admin_client, alice):
    AccountFactory(
        name="Northwind Retail", domain="northwind.example", external_id="SF-NW", tier_code="MM1", csm=alice
    )
    AccountFactory(name="Contoso", domain="contoso.example", external_id="SF-C", tier_code="ENT")
    for query, expected, absent in [
        ("q=northwind", "Northwind Retail", "Contoso"),
        ("q=SF-C", "Contoso", "Northwind Retail"),
        ("q=contoso.example", "Contoso", "Northwind Retail"),
        ("tier_code=ENT", "Contoso", "Northwind Retail"),
        (f"csm__id__exact={alice.pk}", "Northwind Retail", "Contoso"),
        (
            "lifecycle_stage__exact=adopting&region__exact=EMEA&vertical__exact=retail",
            "Contoso",
            "nothing-else",
        ),
    ]:
        page = admin_client.get(f"/admin/accounts/account/?{query}").content.decode()
        assert expected in page, query
        assert absent not in page, query


def test_the_history_is_read_only_in_admin(admin_client):
    account = AccountFactory()
    change = AccountFieldChange.objects.create(
        account=account, field="acv", old_value="1", new_value="2", source="api"
    )
    assert admin_client.get("/admin/accounts/accountfieldchange/").status_code == 200
    assert admin_client.get("/admin/accounts/accountfieldchange/add/").status_code == 403
    response = admin_client.post(
        f"/admin/accounts/accountfieldchange/{change.pk}/change/",
        {"field": "x", "old_value": "", "new_value": ""},
    )
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.field == "acv"


def test_contacts_and_usage_have_admin_pages(admin_client):
    contact = ContactFactory(name="Ana Ruiz")
    snapshot = UsageSnapshotFactory()
    assert "Ana Ruiz" in admin_client.get("/admin/accounts/contact/?q=ana").content.decode()
    assert admin_client.get(f"/admin/accounts/contact/{contact.pk}/change/").status_code == 200
    assert admin_client.get("/admin/accounts/usagesnapshot/").status_code == 200
    assert admin_client.get(f"/admin/accounts/usagesnapshot/{snapshot.pk}/change/").status_code == 200


def test_non_staff_cannot_open_the_admin(client, lena):
    client.force_login(lena)
    response = client.get("/admin/accounts/account/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
