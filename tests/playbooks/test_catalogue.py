"""The service catalogue, tier entitlements (versioned with the policy) and add-ons."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from playbooks.models import AccountAddOn, ServiceModule, TierEntitlement
from playbooks.selectors import entitlements_for_account
from segmentation.models import Tier, TierPolicy
from tests.engagement.factories import tiered_account

pytestmark = pytest.mark.django_db


def entitled(tier_code: str) -> dict[str, int | None]:
    rows = TierEntitlement.objects.filter(tier__policy__version=1, tier__code=tier_code).select_related(
        "module"
    )
    return {row.module.code: row.cadence_days for row in rows}


def test_the_catalogue_holds_the_research_modules_with_kinds_and_minutes() -> None:
    modules = {m.code: m for m in ServiceModule.objects.all()}
    assert {
        "qbr",
        "ebr",
        "catch_up",
        "onboarding_kickoff",
        "onboarding_checkpoint",
        "onboarding_emails",
        "academy",
        "webinars",
        "dedicated_specialist",
        "support_24_5",
    } <= set(modules)
    assert modules["qbr"].kind == "human" and modules["qbr"].default_cadence_days == 90
    assert (
        modules["onboarding_emails"].kind == "automated"
        and modules["onboarding_emails"].expected_minutes == 0
    )
    assert modules["academy"].kind == "self_serve"


def test_default_policy_entitlements_follow_the_research() -> None:
    assert entitled("ENT")["qbr"] == 90 and entitled("ENT")["catch_up"] == 14
    assert "dedicated_specialist" in entitled("ENT") and "ebr" in entitled("ENT")
    assert entitled("MM1")["qbr"] == 90 and entitled("MM1")["catch_up"] == 30
    assert (
        entitled("MM2")["catch_up"] == 60 and "webinars" in entitled("MM2") and "qbr" not in entitled("MM2")
    )
    mm3 = entitled("MM3")
    assert set(mm3) == {"onboarding_emails", "academy"}
    assert all(cadence is None for cadence in mm3.values()), "MM3 has no human cadence"


def test_leaders_edit_entitlements_and_a_cadence_of_zero_is_refused(api_client, lena, alice) -> None:
    tier = Tier.objects.get(policy__version=1, code="MM2")
    url = reverse("api:entitlements-list")
    api_client.force_authenticate(alice)
    assert (
        api_client.post(
            url, {"tier": tier.pk, "module": "qbr", "cadence_days": 120}, format="json"
        ).status_code
        == 403
    )
    api_client.force_authenticate(lena)
    response = api_client.post(url, {"tier": tier.pk, "module": "qbr", "cadence_days": 0}, format="json")
    assert response.status_code == 400
    assert "cadence_days" in response.json()
    response = api_client.post(
        url, {"tier": tier.pk, "module": "no-such-module", "cadence_days": 30}, format="json"
    )
    assert response.status_code == 400 and "module" in response.json()
    assert "qbr" not in entitled("MM2"), "nothing saved by refused requests"
    response = api_client.post(url, {"tier": tier.pk, "module": "qbr", "cadence_days": 120}, format="json")
    assert response.status_code == 201
    assert entitled("MM2")["qbr"] == 120


def test_cloning_a_policy_copies_its_entitlements_and_edits_stay_in_the_draft(
    lena, django_capture_on_commit_callbacks
) -> None:
    from segmentation.services.policies import tier_policy_clone

    active = TierPolicy.objects.get(version=1)
    with django_capture_on_commit_callbacks(execute=True):
        draft = tier_policy_clone(policy=active, by=lena)
    copied = {
        (e.tier.code, e.module.code, e.cadence_days)
        for e in TierEntitlement.objects.filter(tier__policy=draft)
    }
    original = {
        (e.tier.code, e.module.code, e.cadence_days)
        for e in TierEntitlement.objects.filter(tier__policy=active)
    }
    assert copied == original and copied
    draft_mm1 = Tier.objects.get(policy=draft, code="MM1")
    TierEntitlement.objects.filter(tier=draft_mm1, module__code="catch_up").update(cadence_days=21)
    assert entitled("MM1")["catch_up"] == 30, "the active policy is untouched"


def test_tiers_api_lists_entitlements(api_client, alice) -> None:
    api_client.force_authenticate(alice)
    response = api_client.get("/api/v1/tiers/")
    assert response.status_code == 200
    body = response.json()
    tiers = {tier["code"]: tier for tier in (body["results"] if isinstance(body, dict) else body)}
    assert {"module": "qbr", "cadence_days": 90} in tiers["ENT"]["entitlements"]


def test_an_add_on_is_for_enterprise_accounts_and_needs_leadership(
    api_client, alice, lena, frozen_now
) -> None:
    enterprise = tiered_account("ENT", csm=alice)
    mid_market = tiered_account("MM2", csm=alice)
    url = reverse("api:add-ons-list")
    api_client.force_authenticate(alice)
    refused = api_client.post(
        url, {"account": mid_market.pk, "module": "qbr", "cadence_days": 30}, format="json"
    )
    assert refused.status_code == 400 and "account" in refused.json()
    response = api_client.post(
        url, {"account": enterprise.pk, "module": "qbr", "cadence_days": 30}, format="json"
    )
    assert response.status_code == 201 and response.json()["status"] == "pending"
    add_on = AccountAddOn.objects.get(pk=response.json()["id"])
    today = frozen_now.date()
    assert (
        next(
            e for e in entitlements_for_account(account=enterprise, on=today) if e.module_code == "qbr"
        ).cadence_days
        == 90
    )
    decide = reverse("api:add-ons-decide", args=[add_on.pk])
    assert api_client.post(decide, {"approve": True}, format="json").status_code == 403
    api_client.force_authenticate(lena)
    assert api_client.post(decide, {"approve": True}, format="json").status_code == 200
    qbr = next(e for e in entitlements_for_account(account=enterprise, on=today) if e.module_code == "qbr")
    assert (qbr.cadence_days, qbr.source) == (30, "add_on"), "the more frequent add-on wins"
    yesterday = entitlements_for_account(account=enterprise, on=today - dt.timedelta(days=1))
    assert next(e for e in yesterday if e.module_code == "qbr").cadence_days == 90, "the add-on starts today"
