"""Renewal outcomes: the outcome rules, the CRM sync, the account's renewals list, the account page
section, the churned lifecycle and the playbooks started by ``renewal_recorded``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import AccountFieldChange, LifecycleStage, RenewalOutcome
from accounts.services import account_update, renewal_record
from accounts.signals import renewal_recorded
from engagement.models import Task
from playbooks.models import Playbook, PlaybookStep, Trigger
from tests.factories import AccountFactory, RenewalOutcomeFactory

pytestmark = pytest.mark.django_db

SYNC = "/api/v1/renewals/sync/"
EXT = "0015g00000XyZ12AAB"


@pytest.fixture
def account(alice, tom):
    return AccountFactory(
        crm_source="salesforce",
        external_id=EXT,
        csm=alice,
        ae=tom,
        acv=Decimal("62000.00"),
        lifecycle_stage=LifecycleStage.RENEWING,
    )


def record(**overrides):
    """The API.md example record, with ``overrides``."""
    data = {
        "external_id": EXT,
        "renewal_date": "2026-10-31",
        "outcome": "expanded",
        "arr_before": "62000.00",
        "arr_after": "70000.00",
        "churn_reason": None,
        "note": "Added 20 seats",
    }
    data.update(overrides)
    return data


def sync(client, records, crm_source="salesforce"):
    return client.post(SYNC, {"crm_source": crm_source, "records": records}, format="json")


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the outcome rules (service) -------------------------------------------------------------------

VALID = [
    ("renewed", "62000.00", "62000.00", ""),
    ("expanded", "62000.00", "70000.00", ""),
    ("contracted", "62000.00", "50000.00", ""),
    ("churned", "62000.00", "0.00", "competitor"),
]


@pytest.mark.parametrize(("outcome", "before", "after", "reason"), VALID)
def test_each_consistent_outcome_is_stored(account, lena, outcome, before, after, reason):
    renewal = renewal_record(
        account=account,
        renewal_date=dt.date(2026, 10, 31),
        outcome=outcome,
        arr_before=Decimal(before),
        arr_after=Decimal(after),
        churn_reason=reason,
        note="",
        actor=lena,
        source="web",
    )
    stored = RenewalOutcome.objects.get(pk=renewal.pk)
    assert (stored.outcome, stored.arr_after, stored.churn_reason) == (outcome, Decimal(after), reason)
    assert stored.recorded_by == lena and stored.source == "web"


INVALID = [
    (
        "churned without a reason",
        {"outcome": "churned", "arr_after": "0.00", "churn_reason": ""},
        "churn_reason",
    ),
    (
        "churned keeping ARR",
        {"outcome": "churned", "arr_after": "10.00", "churn_reason": "budget"},
        "arr_after",
    ),
    ("expanded without growth", {"outcome": "expanded", "arr_after": "62000.00"}, "arr_after"),
    ("contracted upwards", {"outcome": "contracted", "arr_after": "63000.00"}, "arr_after"),
    ("renewed at another ARR", {"outcome": "renewed", "arr_after": "61000.00"}, "arr_after"),
    ("a reason without churn", {"outcome": "expanded", "churn_reason": "budget"}, "churn_reason"),
    ("an unknown outcome", {"outcome": "paused"}, "outcome"),
    (
        "an unknown reason",
        {"outcome": "churned", "arr_after": "0.00", "churn_reason": "weather"},
        "churn_reason",
    ),
    ("year 1", {"renewal_date": dt.date(1, 1, 1)}, "renewal_date"),
    ("year 9999", {"renewal_date": dt.date(9999, 12, 31)}, "renewal_date"),
    (
        "ARR beyond the column",
        {"arr_before": "1000000000000.00", "arr_after": "1000000000001.00"},
        "arr_before",
    ),
]


@pytest.mark.parametrize(("case", "change", "field"), INVALID, ids=[case for case, _, _ in INVALID])
def test_an_inconsistent_outcome_names_its_field_and_stores_nothing(account, alice, case, change, field):
    values = {
        "renewal_date": dt.date(2026, 10, 31),
        "outcome": "expanded",
        "arr_before": "62000.00",
        "arr_after": "70000.00",
        "churn_reason": "",
    }
    values.update(change)
    with pytest.raises(ValidationError) as error:
        renewal_record(
            account=account,
            renewal_date=values["renewal_date"],
            outcome=values["outcome"],
            arr_before=Decimal(values["arr_before"]),
            arr_after=Decimal(values["arr_after"]),
            churn_reason=values["churn_reason"],
            note="",
            actor=alice,
            source="web",
        )
    assert field in error.value.message_dict
    assert not RenewalOutcome.objects.exists()


def test_recording_the_same_date_again_replaces_the_outcome(account, alice):
    first = renewal_record(
        account=account,
        renewal_date=dt.date(2026, 10, 31),
        outcome="renewed",
        arr_before=Decimal("62000"),
        arr_after=Decimal("62000"),
        actor=alice,
        source="web",
    )
    second = renewal_record(
        account=account,
        renewal_date=dt.date(2026, 10, 31),
        outcome="contracted",
        arr_before=Decimal("62000"),
        arr_after=Decimal("55000"),
        actor=alice,
        source="web",
    )
    assert second.pk == first.pk
    assert RenewalOutcome.objects.get().outcome == "contracted"


# --- lifecycle --------------------------------------------------------------------------------------


def test_a_churn_moves_the_account_to_churned_and_a_later_renewal_brings_it_back(account, alice):
    renewal_record(
        account=account,
        renewal_date=dt.date(2025, 10, 31),
        outcome="churned",
        arr_before=Decimal("62000"),
        arr_after=Decimal("0"),
        churn_reason="budget",
        actor=alice,
        source="web",
    )
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.CHURNED
    change = AccountFieldChange.objects.get(account=account, field="lifecycle_stage")
    assert (change.old_value, change.new_value, change.changed_by) == ("renewing", "churned", alice)

    # An older outcome does not undo the churn; a newer one does.
    renewal_record(
        account=account,
        renewal_date=dt.date(2024, 10, 31),
        outcome="renewed",
        arr_before=Decimal("62000"),
        arr_after=Decimal("62000"),
        actor=alice,
        source="web",
    )
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.CHURNED
    renewal_record(
        account=account,
        renewal_date=dt.date(2026, 10, 31),
        outcome="renewed",
        arr_before=Decimal("40000"),
        arr_after=Decimal("40000"),
        actor=alice,
        source="web",
    )
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.MATURE
    assert list(
        AccountFieldChange.objects.filter(account=account, field="lifecycle_stage")
        .order_by("id")
        .values_list("new_value", flat=True)
    ) == ["churned", "mature"]


# --- sync -------------------------------------------------------------------------------------------


def test_sync_creates_the_example_record_and_a_replay_changes_nothing(integration_client, account):
    response = sync(integration_client, [record()])
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "failed": 0, "errors": []}
    renewal = RenewalOutcome.objects.get(account=account)
    assert renewal.arr_after == Decimal("70000.00") and renewal.churn_reason == ""
    assert renewal.source == "sync:salesforce" and renewal.recorded_by.username == "ivan"

    replay = sync(integration_client, [record()])
    assert replay.json() == {"created": 0, "updated": 0, "unchanged": 1, "failed": 0, "errors": []}


def test_sync_updates_by_account_and_date_and_churn_moves_the_lifecycle(integration_client, account):
    sync(integration_client, [record()])
    response = sync(
        integration_client,
        [record(outcome="churned", arr_after="0.00", churn_reason="competitor", note="")],
    )
    assert response.json()["updated"] == 1
    assert RenewalOutcome.objects.get(account=account).outcome == "churned"
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.CHURNED
    change = AccountFieldChange.objects.get(account=account, field="lifecycle_stage")
    assert change.source == "sync:salesforce"


def test_sync_fails_bad_records_alone_with_the_field_named(integration_client, account):
    response = sync(
        integration_client,
        [
            record(),
            record(renewal_date="2027-10-31", outcome="churned", arr_after="0.00"),
            record(external_id="NOPE"),
            record(),
            record(renewal_date="9999-01-01", outcome="renewed", arr_after="62000.00"),
            record(renewal_date="2028-10-31", outcome="renewed", arr_after="1.00"),
            record(renewal_date="not a date"),
        ],
    )
    body = response.json()
    assert (body["created"], body["failed"]) == (1, 6)
    errors = {error["index"]: error["errors"] for error in body["errors"]}
    assert list(errors) == [1, 2, 3, 4, 5, 6]
    assert "churn_reason" in errors[1]
    assert "external_id" in errors[2]
    assert "renewal_date" in errors[3] and "Duplicate" in errors[3]["renewal_date"][0]
    assert "renewal_date" in errors[4]
    assert "arr_after" in errors[5]
    assert "renewal_date" in errors[6]
    assert RenewalOutcome.objects.count() == 1


def test_sync_refuses_more_than_1000_records(integration_client, account):
    records = [
        record(renewal_date=(dt.date(2001, 1, 1) + dt.timedelta(days=i)).isoformat()) for i in range(1001)
    ]
    response = sync(integration_client, records)
    assert response.status_code == 400
    assert "At most 1000 records" in str(response.json()["records"])
    assert not RenewalOutcome.objects.exists()


def test_sync_is_for_integrations_only(alice, api_client, token_client, ivan, account):
    api_client.force_login(alice)
    assert sync(api_client, [record()]).status_code == 403
    assert sync(token_client(ivan, read_only=True), [record()]).status_code == 403
    assert not RenewalOutcome.objects.exists()


# --- the renewals list ------------------------------------------------------------------------------


def test_the_owning_csm_lists_the_renewals_newest_first(api_client, alice, account):
    RenewalOutcomeFactory(account=account, renewal_date=dt.date(2024, 10, 31))
    RenewalOutcomeFactory(
        account=account,
        renewal_date=dt.date(2025, 10, 31),
        outcome="churned",
        arr_after=0,
        churn_reason="budget",
    )
    api_client.force_login(alice)
    response = api_client.get(f"/api/v1/accounts/{account.pk}/renewals/?page_size=1")
    assert response.status_code == 200
    body = response.json()
    assert [r["renewal_date"] for r in body["results"]] == ["2025-10-31"]
    assert body["results"][0]["churn_reason"] == "budget" and body["results"][0]["arr_after"] == "0.00"
    following = api_client.get(body["next"]).json()
    assert [r["renewal_date"] for r in following["results"]] == ["2024-10-31"]
    assert following["results"][0]["churn_reason"] is None


def test_another_csm_gets_404_for_the_renewals(api_client, bob, account):
    api_client.force_login(bob)
    assert api_client.get(f"/api/v1/accounts/{account.pk}/renewals/").status_code == 404


def test_the_schema_documents_the_renewal_endpoints(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/renewals/sync/" in schema["paths"]
    assert "/api/v1/accounts/{id}/renewals/" in schema["paths"]
    assert "RenewalSyncRequestRequest" in schema["components"]["schemas"]


# --- the account page --------------------------------------------------------------------------------

FORM = {
    "renewal_date": "2026-10-31",
    "outcome": "churned",
    "arr_before": "62000.00",
    "arr_after": "0",
    "churn_reason": "competitor",
    "note": "Moved to a rival",
}


@pytest.mark.parametrize("who", ["alice", "lena"])
def test_the_csm_and_leadership_record_a_churn_on_the_page(request, account, who):
    user = request.getfixturevalue(who)
    client = page_client(user)
    response = client.post(f"/accounts/{account.pk}/renewals/", FORM, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert "accountChanged" in response["HX-Trigger"]
    renewal = RenewalOutcome.objects.get(account=account)
    assert (renewal.outcome, renewal.churn_reason, renewal.recorded_by, renewal.source) == (
        "churned",
        "competitor",
        user,
        "web",
    )
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.CHURNED
    assert AccountFieldChange.objects.filter(
        account=account, field="lifecycle_stage", new_value="churned"
    ).exists()

    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Churned on 2026-10-31 (competitor): not in the active book" in page
    section = client.get(f"/accounts/{account.pk}/renewals/", HTTP_HX_REQUEST="true").content.decode()
    assert "Moved to a rival" in section and "Renewal: churned" in section


def test_the_form_shows_the_rule_error_next_to_the_field(account, alice):
    client = page_client(alice)
    response = client.post(
        f"/accounts/{account.pk}/renewals/", {**FORM, "arr_after": "100"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="renewal-arr_after_error"' in html and "ARR after of 0.00" in html
    assert not RenewalOutcome.objects.exists()
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.RENEWING


def test_the_ae_sees_renewals_but_may_not_record_them(account, tom):
    client = page_client(tom)
    section = client.get(f"/accounts/{account.pk}/renewals/", HTTP_HX_REQUEST="true")
    assert section.status_code == 200 and "Record a renewal outcome" not in section.content.decode()
    assert client.post(f"/accounts/{account.pk}/renewals/", FORM, HTTP_HX_REQUEST="true").status_code == 403
    assert not RenewalOutcome.objects.exists()


def test_the_arr_history_joins_renewals_and_acv_changes_newest_first(account, alice):
    RenewalOutcomeFactory(
        account=account,
        renewal_date=dt.date(2020, 6, 30),
        outcome="expanded",
        arr_before=Decimal("50000"),
        arr_after=Decimal("62000"),
    )
    account_update(account=account, actor=alice, source="web", data={"acv": Decimal("64000")})
    html = (
        page_client(alice).get(f"/accounts/{account.pk}/renewals/", HTTP_HX_REQUEST="true").content.decode()
    )
    history = html[html.index('data-testid="arr-history"') :]
    assert history.index("ACV changed") < history.index("Renewal: expanded")
    assert "62,000.00" in history and "64,000.00" in history and "50,000.00" in history


# --- renewal_recorded -> playbooks ------------------------------------------------------------------


def test_a_recorded_renewal_starts_its_playbook_once(
    integration_client, account, alice, django_capture_on_commit_callbacks
):
    playbook = Playbook.objects.create(
        code="after-renewal", name="After renewal", trigger=Trigger.RENEWAL_RECORDED
    )
    PlaybookStep.objects.create(playbook=playbook, position=1, title="Debrief the renewal", due_offset_days=3)
    sent: list[list[int]] = []

    def receiver(sender, renewal_ids, account_ids, **kwargs):
        sent.append(account_ids)

    renewal_recorded.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sync(integration_client, [record()])
        with django_capture_on_commit_callbacks(execute=True):
            sync(integration_client, [record()])  # a replay records nothing new
    finally:
        renewal_recorded.disconnect(receiver)
    assert sent == [[account.pk]]
    task = Task.objects.get(account=account, title="Debrief the renewal")
    assert task.assignee == alice


# --- admin ------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_lists_searches_and_filters_outcomes(admin_client, account):
    RenewalOutcomeFactory(account=account, renewal_date=dt.date(2025, 10, 31))
    listing = admin_client.get("/admin/accounts/renewaloutcome/?outcome__exact=renewed&q=" + EXT)
    assert listing.status_code == 200 and account.name in listing.content.decode()


def test_the_admin_saves_through_the_service(admin_client, account):
    form = {**FORM, "account": account.pk}
    response = admin_client.post("/admin/accounts/renewaloutcome/add/", form)
    assert response.status_code == 302
    renewal = RenewalOutcome.objects.get(account=account)
    assert renewal.source == "admin" and renewal.recorded_by.username == "root"
    account.refresh_from_db()
    assert account.lifecycle_stage == LifecycleStage.CHURNED


def test_the_admin_names_the_field_that_breaks_a_rule(admin_client, account):
    response = admin_client.post(
        "/admin/accounts/renewaloutcome/add/", {**FORM, "account": account.pk, "churn_reason": ""}
    )
    assert response.status_code == 200
    assert "A churned renewal needs a churn reason." in response.content.decode()
    assert not RenewalOutcome.objects.exists()
