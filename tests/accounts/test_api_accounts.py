"""The accounts REST API through real URLs and real tokens: auth, roles, scope, filters, errors."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, AccountFieldChange
from accounts.signals import accounts_changed
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/accounts/"


def detail(account: Account) -> str:
    return f"/api/v1/accounts/{account.pk}/"


# --- authentication ---------------------------------------------------------------------------


def test_it_answers_401_without_a_token(api_client):
    response = api_client.get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_it_answers_401_for_an_unknown_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert api_client.get(LIST).status_code == 401


def test_a_read_only_token_may_read_but_not_write(ivan, token_client):
    account = AccountFactory()
    client = token_client(ivan, read_only=True)
    assert client.get(LIST).status_code == 200
    response = client.patch(detail(account), {"acv": "1.00"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "This API token is read-only."}
    assert client.post(LIST, {"external_id": "X", "name": "New"}, format="json").status_code == 403
    account.refresh_from_db()
    assert account.acv == Decimal("20000.00")


def test_a_browser_session_is_accepted(client, lena):
    AccountFactory()
    client.force_login(lena)
    response = client.get(LIST)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


# --- the account object -----------------------------------------------------------------------


def test_the_account_has_the_fields_of_the_contract(integration_client, alice, tom):
    account = AccountFactory(
        crm_source="salesforce",
        external_id="0015g00000XyZ12AAB",
        name="Northwind Retail",
        domain="northwind.example",
        vertical="retail",
        region="EMEA",
        acv=Decimal("62000"),
        lifecycle_stage="adopting",
        renewal_date=dt.date(2027, 3, 31),
        csm=alice,
        ae=tom,
        tier_code="MM1",
        tier_name="Mid-Market Tier 1",
        tier_source="policy",
        tier_explanation="ACV 62,000.00 is at least the Mid-Market Tier 1 threshold of 50,000.00.",
    )
    body = integration_client.get(detail(account)).json()
    assert body["id"] == account.pk
    assert body["crm_source"] == "salesforce"
    assert body["external_id"] == "0015g00000XyZ12AAB"
    assert body["name"] == "Northwind Retail"
    assert body["domain"] == "northwind.example"
    assert body["vertical"] == "retail"
    assert body["region"] == "EMEA"
    assert body["acv"] == "62000.00"
    assert body["lifecycle_stage"] == "adopting"
    assert body["renewal_date"] == "2027-03-31"
    assert body["csm"] == "alice"
    assert body["ae"] == "tom"
    assert body["tier"] == {
        "code": "MM1",
        "name": "Mid-Market Tier 1",
        "source": "policy",
        "explanation": "ACV 62,000.00 is at least the Mid-Market Tier 1 threshold of 50,000.00.",
    }
    assert dt.datetime.fromisoformat(body["created_at"]) == account.created_at
    assert body["updated_at"].endswith("+00:00")


def test_tier_is_null_before_segmentation_sets_one(integration_client):
    account = AccountFactory(tier_code="")
    body = integration_client.get(detail(account)).json()
    assert body["tier"] is None
    assert body["csm"] is None


def test_tier_is_read_only(integration_client):
    account = AccountFactory(tier_code="MM3", tier_name="Mid-Market Tier 3", tier_source="policy")
    response = integration_client.patch(
        detail(account), {"tier": {"code": "ENT"}, "name": "Renamed"}, format="json"
    )
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.tier_code == "MM3"
    assert account.name == "Renamed"


# --- roles and scope --------------------------------------------------------------------------


def test_a_csm_lists_only_their_own_portfolio(alice, bob, token_client):
    mine = AccountFactory(csm=alice)
    AccountFactory(csm=bob)
    AccountFactory(csm=None)
    response = token_client(alice).get(LIST)
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_an_ae_lists_the_accounts_they_own_as_ae(tom, tina, token_client):
    mine = AccountFactory(ae=tom)
    AccountFactory(ae=tina)
    response = token_client(tom).get(LIST)
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_leadership_and_integration_see_all_accounts(lena, ivan, alice, token_client):
    AccountFactory(csm=alice)
    AccountFactory(csm=None)
    for user in (lena, ivan):
        assert len(token_client(user).get(LIST).json()["results"]) == 2


def test_a_user_without_a_role_is_refused(token_client):
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody")
    assert token_client(nobody).get(LIST).status_code == 403


def test_someone_elses_account_is_not_found(alice, bob, token_client):
    theirs = AccountFactory(csm=bob)
    client = token_client(alice)
    assert client.get(detail(theirs)).status_code == 404
    assert client.patch(detail(theirs), {"name": "Mine now"}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name != "Mine now"


def test_a_csm_may_patch_their_own_account(alice, token_client):
    account = AccountFactory(csm=alice)
    response = token_client(alice).patch(detail(account), {"domain": "northwind.example"}, format="json")
    assert response.status_code == 200
    assert response.json()["domain"] == "northwind.example"


def test_a_csms_change_to_a_tier_input_waits_for_leadership(alice, token_client):
    account = AccountFactory(csm=alice, lifecycle_stage="onboarding")
    response = token_client(alice).patch(
        detail(account), {"lifecycle_stage": "mature", "domain": "n.example"}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["account"]["lifecycle_stage"] == "onboarding"
    assert body["account"]["domain"] == "n.example"
    assert body["input_proposal"]["changes"] == {"lifecycle_stage": "mature"}
    assert body["input_proposal"]["status"] == "pending"
    account.refresh_from_db()
    assert (account.lifecycle_stage, account.domain) == ("onboarding", "n.example")


def test_a_csm_may_not_move_an_account_to_another_csm(alice, bob, token_client):
    account = AccountFactory(csm=alice)
    client = token_client(alice)
    assert client.patch(detail(account), {"csm": "bob"}, format="json").status_code == 403
    # Sending the current owner back is not a move.
    assert (
        client.patch(detail(account), {"csm": "alice", "name": "Same owner"}, format="json").status_code
        == 200
    )
    own_email = {"csm": "Alice@CSplatform.example"}
    assert client.patch(detail(account), own_email, format="json").status_code == 200
    assert client.patch(detail(account), {"csm": None}, format="json").status_code == 403
    account.refresh_from_db()
    assert account.csm == alice


def test_a_csm_may_not_create_accounts(alice, token_client):
    response = token_client(alice).post(LIST, {"external_id": "N-1", "name": "New"}, format="json")
    assert response.status_code == 403
    assert not Account.objects.filter(external_id="N-1").exists()


def test_an_ae_reads_but_may_not_patch_their_account(tom, token_client):
    account = AccountFactory(ae=tom)
    client = token_client(tom)
    assert client.get(detail(account)).status_code == 200
    assert client.patch(detail(account), {"name": "AE edit"}, format="json").status_code == 403


def test_leadership_creates_and_patches_any_account(lena, alice, token_client):
    client = token_client(lena)
    response = client.post(
        LIST, {"external_id": "L-1", "name": "Leader Co", "acv": "70000", "csm": "alice"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["acv"] == "70000.00"
    assert body["csm"] == "alice"
    assert body["crm_source"] == "manual"
    account = Account.objects.get(pk=body["id"])
    assert client.patch(detail(account), {"csm": None}, format="json").json()["csm"] is None


def test_put_and_delete_are_not_allowed(integration_client):
    account = AccountFactory()
    assert integration_client.put(detail(account), {"name": "x"}, format="json").status_code == 405
    assert integration_client.delete(detail(account)).status_code == 405


# --- create / patch rules -----------------------------------------------------------------------


def test_owners_may_be_given_by_email(integration_client, alice, tom):
    response = integration_client.post(
        LIST,
        {"external_id": "E-1", "name": "By email", "csm": "ALICE@csplatform.example", "ae": tom.email},
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["csm"], response.json()["ae"]) == ("alice", "tom")


def test_an_unknown_csm_is_a_field_error(integration_client):
    response = integration_client.post(
        LIST, {"external_id": "U-1", "name": "Unknown owner", "csm": "maria"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"csm": ['No active user with username or email "maria".']}
    assert not Account.objects.filter(external_id="U-1").exists()


def test_a_negative_acv_is_refused_with_drf_message(integration_client):
    account = AccountFactory()
    response = integration_client.patch(detail(account), {"acv": "-1"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"acv": ["Ensure this value is greater than or equal to 0."]}


def test_a_non_number_acv_is_refused(integration_client):
    response = integration_client.post(LIST, {"external_id": "A", "name": "A", "acv": "lots"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"acv": ["A valid number is required."]}


def test_a_100000_character_name_is_refused(integration_client):
    response = integration_client.post(LIST, {"external_id": "LONG", "name": "n" * 100_000}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["Ensure this field has no more than 255 characters."]}


def test_name_and_external_id_are_required_to_create(integration_client):
    response = integration_client.post(LIST, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"external_id", "name"}


def test_a_duplicate_crm_id_is_refused(integration_client):
    AccountFactory(crm_source="manual", external_id="DUP")
    response = integration_client.post(LIST, {"external_id": "DUP", "name": "Again"}, format="json")
    assert response.status_code == 400
    assert "external_id" in response.json()


def test_a_renewal_before_the_contract_start_is_refused(integration_client):
    account = AccountFactory(contract_start=dt.date(2026, 1, 1))
    response = integration_client.patch(detail(account), {"renewal_date": "2025-12-31"}, format="json")
    assert response.status_code == 400
    assert "renewal_date" in response.json()


def test_malformed_json_is_a_400(integration_client):
    response = integration_client.post(LIST, data='{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_non_json_content_type_is_a_415(integration_client):
    response = integration_client.post(LIST, data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_a_body_over_the_limit_is_a_413(integration_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"external_id": "BIG", "name": "x", "domain": "d" * 20_000})
    response = integration_client.post(LIST, data=body, content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not Account.objects.filter(external_id="BIG").exists()


# --- history and signal -------------------------------------------------------------------------


def test_a_patch_records_who_changed_tracked_fields(
    ivan, integration_client, alice, django_capture_on_commit_callbacks
):
    account = AccountFactory(acv=Decimal("20000"), csm=None)
    received: list[dict] = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    accounts_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = integration_client.patch(
                detail(account), {"acv": "55000.5", "csm": "alice", "domain": "new.example"}, format="json"
            )
    finally:
        accounts_changed.disconnect(receiver)
    assert response.status_code == 200
    changes = {c.field: c for c in AccountFieldChange.objects.filter(account=account)}
    assert set(changes) == {"acv", "csm"}
    assert (changes["acv"].old_value, changes["acv"].new_value) == ("20000.00", "55000.50")
    assert (changes["csm"].old_value, changes["csm"].new_value) == ("", "alice")
    assert changes["acv"].changed_by == ivan
    assert changes["acv"].source == "api"
    assert received == [{"signal": accounts_changed, "account_ids": [account.pk], "fields": {"acv", "csm"}}]


def test_a_patch_that_changes_nothing_records_nothing(integration_client, django_capture_on_commit_callbacks):
    account = AccountFactory(acv=Decimal("20000"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = integration_client.patch(detail(account), {"acv": "20000.00"}, format="json")
    assert response.status_code == 200
    assert callbacks == []
    assert not AccountFieldChange.objects.exists()


def test_creating_an_account_announces_it(integration_client, django_capture_on_commit_callbacks):
    received: list[dict] = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    accounts_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = integration_client.post(
                LIST, {"external_id": "S-1", "name": "Signal Co"}, format="json"
            )
    finally:
        accounts_changed.disconnect(receiver)
    assert received[0]["account_ids"] == [response.json()["id"]]
    assert received[0]["fields"] == {"created"}


# --- filters and pagination ---------------------------------------------------------------------


def test_it_filters_by_tier_csm_search_and_updated_since(integration_client, alice, bob):
    north = AccountFactory(name="Northwind Retail", domain="northwind.example", tier_code="MM1", csm=alice)
    south = AccountFactory(name="Southwind", domain="sw.example", tier_code="ENT", csm=bob)
    AccountFactory(name="Other", domain="wind-power.example", tier_code="MM1", csm=bob)
    Account.objects.filter(pk=north.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))

    def ids(query: str) -> list[int]:
        response = integration_client.get(f"{LIST}?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert ids("tier=ENT") == [south.pk]
    assert ids("csm=alice") == [north.pk]
    assert len(ids("search=WIND")) == 3
    assert ids("search=northwind.ex") == [north.pk]
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert north.pk not in ids(f"updated_since={since.replace('+', '%2B')}")


def test_a_bad_updated_since_is_a_400(integration_client):
    response = integration_client.get(f"{LIST}?updated_since=yesterday")
    assert response.status_code == 400
    assert "updated_since" in response.json()


def test_the_list_uses_cursor_pagination_with_a_maximum_page_size(integration_client):
    AccountFactory.create_batch(7)
    first = integration_client.get(f"{LIST}?page_size=5").json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 5
    second = integration_client.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert second["next"] is None
    seen = {row["id"] for row in first["results"]} | {row["id"] for row in second["results"]}
    assert len(seen) == 7


def test_page_size_is_capped_at_500(integration_client):
    AccountFactory.create_batch(3)
    response = integration_client.get(f"{LIST}?page_size=100000")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_the_default_page_size_is_50(integration_client):
    AccountFactory.create_batch(51)
    assert len(integration_client.get(LIST).json()["results"]) == 50


def test_the_list_does_not_query_per_row(integration_client, django_assert_max_num_queries, alice, tom):
    AccountFactory.create_batch(30, csm=alice, ae=tom)
    with django_assert_max_num_queries(5):
        response = integration_client.get(f"{LIST}?page_size=30")
    assert len(response.json()["results"]) == 30


# --- schema -------------------------------------------------------------------------------------


def test_the_schema_describes_the_accounts_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/accounts/",
        "/api/v1/accounts/{id}/",
        "/api/v1/accounts/sync/",
        "/api/v1/contacts/sync/",
        "/api/v1/metrics/sync/",
    ):
        assert path in paths
    params = {p["name"] for p in paths["/api/v1/accounts/"]["get"]["parameters"]}
    assert {"tier", "csm", "updated_since", "search", "cursor", "page_size"} <= params
    account = schema["components"]["schemas"]["Account"]["properties"]
    assert set(account) >= {
        "id",
        "crm_source",
        "external_id",
        "name",
        "domain",
        "vertical",
        "region",
        "acv",
        "lifecycle_stage",
        "renewal_date",
        "csm",
        "ae",
        "tier",
        "created_at",
        "updated_at",
    }
    sync = paths["/api/v1/accounts/sync/"]["post"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    result = schema["components"]["schemas"][sync["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert set(result) == {"created", "updated", "unchanged", "failed", "errors"}


# --- optimistic concurrency ---------------------------------------------------------------------


def test_a_patch_with_a_stale_etag_is_a_409(integration_client):
    account = AccountFactory(acv=Decimal("100"))
    etag = integration_client.get(detail(account))["ETag"]
    first = integration_client.patch(detail(account), {"acv": "200"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag
    stale = integration_client.patch(detail(account), {"acv": "300"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["detail"]
    account.refresh_from_db()
    assert account.acv == Decimal("200")
    fresh = integration_client.patch(
        detail(account), {"acv": "300"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert fresh.status_code == 200


def test_a_patch_without_if_match_is_last_writer_wins(integration_client):
    account = AccountFactory(acv=Decimal("100"))
    assert integration_client.patch(detail(account), {"acv": "200"}, format="json").status_code == 200
    assert integration_client.patch(detail(account), {"acv": "300"}, format="json").status_code == 200
