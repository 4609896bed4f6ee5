"""AE handoff commitments: checked at once, re-checked on tier change, accepted or declined."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Account
from engagement.models import HandoffCommitment
from engagement.playbook_runs.services import tier_change_handle
from playbooks.models import AccountAddOn
from playbooks.selectors import entitlements_for_account
from tests.engagement.factories import tiered_account

pytestmark = pytest.mark.django_db
URL = "/api/v1/commitments/"


@pytest.fixture
def mm1(alice, tom):
    return tiered_account("MM1", csm=alice, ae=tom)


def log(client, account, **fields):
    return client.post(URL, {"account": account.pk, "deal_reference": "OPP-1", **fields}, format="json")


@pytest.mark.parametrize(
    ("module", "cadence", "status"),
    [
        ("catch_up", 30, "within_tier"),  # exactly the tier's cadence
        ("catch_up", 45, "within_tier"),  # less often than entitled
        ("catch_up", 14, "exceeds_tier"),  # more often than entitled
        ("qbr", None, "within_tier"),  # module included, no cadence promised
        ("dedicated_specialist", None, "exceeds_tier"),  # not in MM1
        ("onboarding_kickoff", 30, "exceeds_tier"),  # included once, promised recurring
    ],
)
def test_a_commitment_is_checked_against_the_tier_at_once(
    api_client, tom, mm1, module, cadence, status
) -> None:
    api_client.force_authenticate(tom)
    response = log(api_client, mm1, module=module, cadence_days=cadence)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == status
    assert response.json()["check_explanation"]


def test_free_text_goes_to_leadership(api_client, tom, mm1) -> None:
    api_client.force_authenticate(tom)
    response = log(api_client, mm1, module=None, description="Promised a custom integration review.")
    assert response.json()["status"] == "exceeds_tier"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"module": "catch_up", "cadence_days": 0}, "cadence_days"),
        ({"module": "nope", "cadence_days": 30}, "module"),
        ({"module": None, "description": ""}, "description"),
        ({"module": "catch_up", "cadence_days": "often"}, "cadence_days"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(api_client, tom, mm1, fields, field) -> None:
    api_client.force_authenticate(tom)
    response = log(api_client, mm1, **fields)
    assert response.status_code == 400 and field in response.json()
    assert not HandoffCommitment.objects.exists()


def test_only_the_owning_ae_may_log(api_client, tina, alice, mm1) -> None:
    api_client.force_authenticate(alice)  # sees the account (its CSM) but did not sell it
    assert log(api_client, mm1, module="qbr").status_code == 403
    api_client.force_authenticate(tina)  # another AE: the account is unknown to her
    assert log(api_client, mm1, module="qbr").status_code == 400
    assert not HandoffCommitment.objects.exists()
    api_client.force_authenticate(tina)
    assert log(api_client, Account(pk=999_999), module="qbr").status_code == 400


def test_leadership_accepts_an_exception_as_a_time_boxed_add_on(
    api_client, tom, alice, lena, mm1, frozen_now
) -> None:
    api_client.force_authenticate(tom)
    commitment_id = log(api_client, mm1, module="catch_up", cadence_days=14).json()["id"]
    accept = reverse("api:commitments-accept", args=[commitment_id])
    api_client.force_authenticate(alice)
    assert api_client.post(accept, {}, format="json").status_code == 403, "a CSM cannot accept"
    api_client.force_authenticate(lena)
    response = api_client.post(accept, {"until": "2027-05-31", "note": "Strategic logo."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    add_on = AccountAddOn.objects.get(account=mm1)
    assert (add_on.module.code, add_on.cadence_days, add_on.ends_on, add_on.status) == (
        "catch_up",
        14,
        dt.date(2027, 5, 31),
        "approved",
    )
    catch_up = next(
        e for e in entitlements_for_account(account=mm1, on=frozen_now.date()) if e.module_code == "catch_up"
    )
    assert catch_up.cadence_days == 14
    assert (
        next(
            e
            for e in entitlements_for_account(account=mm1, on=dt.date(2027, 6, 1))
            if e.module_code == "catch_up"
        ).cadence_days
        == 30
    ), "the exception ends"
    assert api_client.post(accept, {}, format="json").status_code == 400, "decided once"


def test_leadership_declines_with_a_reason_the_ae_and_csm_see(api_client, tom, alice, lena, mm1) -> None:
    api_client.force_authenticate(tom)
    commitment_id = log(api_client, mm1, module="dedicated_specialist").json()["id"]
    decline = reverse("api:commitments-decline", args=[commitment_id])
    api_client.force_authenticate(lena)
    assert api_client.post(decline, {"reason": ""}, format="json").status_code == 400
    response = api_client.post(decline, {"reason": "Not offered below Enterprise."}, format="json")
    assert response.json()["status"] == "declined"
    for person in (tom, alice):
        api_client.force_authenticate(person)
        (row,) = api_client.get(URL, {"account": mm1.pk}).json()["results"]
        assert row["decision_reason"] == "Not offered below Enterprise."
    assert not AccountAddOn.objects.exists()


def test_open_commitments_are_rechecked_when_the_tier_changes(api_client, tom, mm1, frozen_now) -> None:
    api_client.force_authenticate(tom)
    exceeding = log(api_client, mm1, module="catch_up", cadence_days=14).json()["id"]
    within = log(api_client, mm1, module="qbr", cadence_days=90).json()["id"]
    Account.objects.filter(pk=mm1.pk).update(tier_code="ENT")
    tier_change_handle(account_id=mm1.pk, from_code="MM1", to_code="ENT", change_id=7)
    assert HandoffCommitment.objects.get(pk=exceeding).status == "within_tier"
    Account.objects.filter(pk=mm1.pk).update(tier_code="MM3")
    tier_change_handle(account_id=mm1.pk, from_code="ENT", to_code="MM3", change_id=8)
    rechecked = HandoffCommitment.objects.get(pk=within)
    assert (rechecked.status, rechecked.checked_tier_code) == ("exceeds_tier", "MM3")
