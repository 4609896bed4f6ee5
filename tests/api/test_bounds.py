"""Each bound of ``csplatform.bounds`` through every door that takes the value: the API, the pages
and the CRM sync answer the same value the same way (at the edge: accepted; one past it: a 4xx
naming the field, nothing stored). Filters with an impossible id answer 400 naming the parameter,
and JSON nested beyond the limit is refused before any view runs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, UsageSnapshot
from engagement.models import HandoffCommitment, Task, Touchpoint
from playbooks.models import JourneyStep, TierEntitlement
from segmentation.models import TierPolicy
from tests.factories import AccountFactory
from tests.journeys.factories import JourneyFactory

pytestmark = pytest.mark.django_db

NOW = "2026-11-20T10:00:00+00:00"


@pytest.fixture
def account(alice, tom):
    return AccountFactory(csm=alice, ae=tom, acv=Decimal("20000"))


@pytest.mark.parametrize(("minutes", "status"), [(0, 201), (1440, 201), (1441, 400), (-1, 400), (2**64, 400)])
def test_touchpoint_minutes_through_the_api(account, alice, token_client, minutes, status):
    body = {"account": account.pk, "kind": "call", "occurred_at": NOW, "minutes": minutes}
    response = token_client(alice).post("/api/v1/touchpoints/", body, format="json")
    assert response.status_code == status
    if status == 400:
        assert list(response.json()) == ["minutes"]
        assert not Touchpoint.objects.exists()


@pytest.mark.parametrize(("minutes", "status"), [(1440, 302), (1441, 422)])
def test_touchpoint_minutes_through_the_page(account, alice, client, minutes, status):
    client.force_login(alice)
    form = {
        "kind": "call",
        "occurred_at": "2026-11-20T10:00",
        "minutes": str(minutes),
        "module": "",
        "notes": "",
    }
    response = client.post(reverse("engagement:touchpoint-new", args=[account.pk]), form)
    assert response.status_code in (status, 204 if status == 302 else status)
    assert Touchpoint.objects.exists() == (status != 422)
    if status == 422:
        assert "Ensure this value is from 0 to 1,440 minutes." in response.content.decode()


@pytest.mark.parametrize(("minutes", "status"), [(2400, 201), (2401, 400), (10**12, 400)])
def test_task_estimates(account, alice, token_client, minutes, status):
    later = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    body = {"account": account.pk, "title": "Call", "due_on": later, "estimated_minutes": minutes}
    response = token_client(alice).post("/api/v1/tasks/", body, format="json")
    assert response.status_code == status
    assert Task.objects.exists() == (status == 201)
    if status == 400:
        assert response.json() == {"estimated_minutes": ["Ensure this value is from 0 to 2,400 minutes."]}


@pytest.mark.parametrize(
    ("cadence", "ok"), [(1, True), (3650, True), (3651, False), (0, False), (10**9, False)]
)
def test_commitment_cadence(account, tom, token_client, cadence, ok):
    body = {"account": account.pk, "module": "qbr", "cadence_days": cadence, "description": "QBRs"}
    response = token_client(tom).post("/api/v1/commitments/", body, format="json")
    assert (response.status_code == 201) == ok
    assert HandoffCommitment.objects.exists() == ok
    if not ok:
        assert list(response.json()) == ["cadence_days"]


def test_entitlement_cadence_is_refused_alike_by_the_api(lena, token_client):
    policy = TierPolicy.objects.get(status="active")
    tier = policy.tiers.order_by("rank").first()
    before = TierEntitlement.objects.count()
    body = {"tier": tier.pk, "module": "qbr", "cadence_days": 3651}
    response = token_client(lena).post("/api/v1/entitlements/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"cadence_days": ["Ensure this value is from 1 to 3,650 days."]}
    assert TierEntitlement.objects.count() == before


@pytest.mark.parametrize(
    ("acv", "status"), [("9999999999.99", 200), ("10000000000.00", 400), ("-0.01", 400), ("1e400", 400)]
)
def test_acv(account, lena, token_client, acv, status):
    response = token_client(lena).patch(f"/api/v1/accounts/{account.pk}/", {"acv": acv}, format="json")
    assert response.status_code == status
    if status == 400:
        assert list(response.json()) == ["acv"]
        account.refresh_from_db()
        assert account.acv == Decimal("20000.00")


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1969-12-31", "2200-01-01"])
def test_dates_at_the_ends_of_the_calendar(account, lena, token_client, day):
    response = token_client(lena).patch(
        f"/api/v1/accounts/{account.pk}/", {"renewal_date": day}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"renewal_date": ["Give a date between 1970-01-01 and 2199-12-31."]}


def test_usage_counts_in_a_sync(account, integration_client):
    body = {
        "crm_source": account.crm_source,
        "records": [
            {"external_id": account.external_id, "period_start": "2026-11-02", "active_users": 10_000_001},
            {"external_id": account.external_id, "period_start": "2026-11-09", "active_users": 10_000_000},
        ],
    }
    result = integration_client.post("/api/v1/metrics/sync/", body, format="json").json()
    assert (result["created"], result["failed"]) == (1, 1)
    assert list(result["errors"][0]["errors"]) == ["active_users"]
    assert UsageSnapshot.objects.filter(account=account).count() == 1


@pytest.mark.parametrize(("days", "hours", "ok"), [(365, 168, True), (366, 0, False), (0, 169, False)])
def test_journey_step_delays(client, lena, days, hours, ok):
    journey = JourneyFactory(code="bounded", tier_code="MM3")
    client.force_login(lena)
    form = {
        "name": "Welcome",
        "delay_days": str(days),
        "delay_hours": str(hours),
        "delay_from": "enrolment",
        "subject_template": "Welcome",
        "body_text_template": "Hi,\n\n{{ links.unsubscribe }}\n",
        "body_html_template": "",
        "skip_condition": "",
        "module_code": "",
    }
    response = client.post(reverse("journeys:step-new", args=[journey.pk]), form)
    assert JourneyStep.objects.filter(journey=journey).exists() == ok
    if not ok:
        assert response.status_code in (200, 422)
        assert "Ensure this value is from 0 to" in response.content.decode()


# --- filters ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [str(2**63), str(2**64), "0", "-5", "1e3", "x"])
@pytest.mark.parametrize("route", ["/api/v1/touchpoints/", "/api/v1/tasks/", "/api/v1/commitments/"])
def test_an_impossible_account_filter_is_a_400_naming_it(lena, token_client, route, value):
    response = token_client(lena).get(route, {"account": value})
    assert response.status_code == 400
    assert list(response.json()) == ["account"]


@pytest.mark.parametrize(("query", "field"), [({"csm": str(2**64)}, "csm"), ({"page": "1000001"}, "page")])
@pytest.mark.parametrize("route", ["/accounts/", "/accounts/export.csv", "/worklist/"])
def test_a_page_filter_with_an_impossible_value_is_a_400_naming_it(lena, client, route, query, field):
    client.force_login(lena)
    response = client.get(route, query)
    assert response.status_code == 400
    assert f"{field}:" in response.content.decode()


# --- JSON depth -------------------------------------------------------------------------------------


def nested(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


@pytest.mark.parametrize("route", ["/api/v1/accounts/", "/api/v1/accounts/sync/", "/api/v1/touchpoints/"])
def test_deep_json_is_refused_before_the_view(integration_client, route):
    body = '{"crm_source": "x", "records": ' + nested(1000) + "}"
    response = integration_client.generic("POST", route, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["detail"]
    assert not Account.objects.exists()


def test_json_with_brackets_inside_strings_is_not_deep(integration_client):
    body = '{"external_id": "B-1", "name": "' + "[" * 200 + '"}'
    response = integration_client.generic("POST", "/api/v1/accounts/", body, content_type="application/json")
    assert response.status_code == 201


def test_deep_json_in_the_policy_editor_is_a_field_error(lena, client):
    from tests.web.test_leadership import _draft, _editor_post

    client.force_login(lena)
    draft = _draft(client)
    for rules in (nested(1000), nested(33)):
        response = client.post(
            f"/policies/{draft.id}/", _editor_post(draft, rules=rules), HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 422
        assert "nested deeper than 32 levels" in response.content.decode()
    huge = client.post(
        f"/policies/{draft.id}/",
        _editor_post(draft, **{"tiers-0-min_acv": "10000000000"}),
        HTTP_HX_REQUEST="true",
    )
    assert huge.status_code == 422 and "9,999,999,999.99" in huge.content.decode()
