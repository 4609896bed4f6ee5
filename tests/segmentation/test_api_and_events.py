"""Tiers and tier history through the API; event-driven re-evaluation from sync, usage and contacts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from segmentation import entitlements
from segmentation.models import TierChange
from segmentation.services.initial_tiers import tier_assign_initial
from tests.factories import AccountFactory
from tests.segmentation.factories import set_active_rules


def test_tiers_lists_the_active_policy_in_rank_order(token_client, alice, monkeypatch):
    monkeypatch.setattr(entitlements, "_provider", None)
    body = token_client(alice).get(reverse("api:tiers-list")).json()
    assert [(t["code"], t["rank"], t["min_acv"], t["touch_model"]) for t in body["results"]] == [
        ("ENT", 1, "70000.00", "high"),
        ("MM1", 2, "50000.00", "hybrid"),
        ("MM2", 3, "15000.00", "hybrid"),
        ("MM3", 4, "0.00", "digital"),
    ]
    assert all(t["entitlements"] == [] for t in body["results"])


def test_tiers_carry_the_entitlements_the_provider_gives(token_client, alice, monkeypatch):
    monkeypatch.setattr(
        entitlements, "_provider", lambda tier_ids: {tier_ids[0]: [{"module": "qbr", "cadence_days": 90}]}
    )
    body = token_client(alice).get(reverse("api:tiers-list")).json()
    assert body["results"][0]["entitlements"] == [{"module": "qbr", "cadence_days": 90}]
    assert body["results"][1]["entitlements"] == []


def test_tiers_need_authentication(api_client, db):
    assert api_client.get(reverse("api:tiers-list")).status_code == 401


@pytest.fixture
def history_account(alice, tom, run_review):
    account = AccountFactory(acv=Decimal("62000"), csm=alice, ae=tom)
    run_review()
    Account.objects.filter(pk=account.pk).update(acv=Decimal("90000"))
    run_review()
    return account


@pytest.mark.parametrize(
    ("who", "visible"),
    [("alice", True), ("tom", True), ("lena", True), ("ivan", True), ("bob", False), ("tina", False)],
)
def test_tier_history_follows_account_visibility(request, token_client, history_account, who, visible):
    response = token_client(request.getfixturevalue(who)).get(
        reverse("api:accounts-tier-history", args=[history_account.pk])
    )
    if not visible:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["from_tier"], r["to_tier"], r["source"]) for r in results] == [
        ("MM1", "ENT", "review"),
        ("", "MM1", "review"),
    ]
    assert results[0]["explanation"] == "ACV 90,000 ≥ 70,000 → Enterprise."
    assert set(results[0]) >= {"from_tier", "to_tier", "source", "explanation", "applied_at", "by"}


def test_an_acv_change_through_sync_re_evaluates_the_tier_at_once(
    integration_client, run_review, django_capture_on_commit_callbacks
):
    account = AccountFactory(crm_source="salesforce", external_id="X-1", acv=Decimal("20000"))
    run_review()
    with django_capture_on_commit_callbacks(execute=True):
        response = integration_client.post(
            reverse("api:accounts-sync"),
            {
                "crm_source": "salesforce",
                "records": [{"external_id": "X-1", "name": account.name, "acv": "75000.00"}],
            },
            format="json",
        )
    assert response.status_code == 200, response.json()
    detail = integration_client.get(reverse("api:accounts-detail", args=[account.pk])).json()
    assert detail["tier"]["code"] == "ENT"
    assert detail["tier"]["explanation"] == "ACV 75,000 ≥ 70,000 → Enterprise."
    change = TierChange.objects.filter(account=account).first()
    assert (change.source, change.from_code, change.to_code) == ("event", "MM2", "ENT")


def test_a_new_account_from_sync_gets_its_tier(integration_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        integration_client.post(
            reverse("api:accounts-sync"),
            {"crm_source": "hubspot", "records": [{"external_id": "N-1", "name": "Newco", "acv": "51000"}]},
            format="json",
        )
    account = Account.objects.get(external_id="N-1")
    assert (account.tier_code, account.tier_source) == ("MM1", "policy")


def test_new_usage_re_evaluates_accounts_whose_rules_read_usage(
    integration_client, run_review, django_capture_on_commit_callbacks
):
    set_active_rules(
        [
            {
                "name": "Fast growth near the next threshold",
                "when": [
                    {"signal": "active_users_trend_90d", "op": ">=", "value": 30},
                    {"signal": "acv_within_pct_of_next_threshold", "op": "<=", "value": 20},
                ],
                "effect": {"type": "promote", "ranks": 1},
            }
        ]
    )
    account = AccountFactory(crm_source="salesforce", external_id="U-1", acv=Decimal("62000"))
    run_review()
    today = timezone.localdate()
    records = [
        {
            "external_id": "U-1",
            "period_start": (today - dt.timedelta(days=98)).isoformat(),
            "active_users": 100,
            "licensed_seats": 200,
            "support_tickets": 0,
            "feature_adoption": "0.40",
        },
        {
            "external_id": "U-1",
            "period_start": (today - dt.timedelta(days=7)).isoformat(),
            "active_users": 141,
            "licensed_seats": 200,
            "support_tickets": 1,
            "feature_adoption": "0.50",
        },
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = integration_client.post(
            reverse("api:metrics-sync"), {"crm_source": "salesforce", "records": records}, format="json"
        )
    assert response.status_code == 200, response.json()
    account.refresh_from_db()
    assert account.tier_code == "ENT"
    assert account.tier_explanation == (
        "ACV 62,000 ≥ 50,000 → Mid-Market Tier 1; active users +41% in 90 days and ACV within 20% of 70,000 "
        "→ promoted to Enterprise."
    )


def test_a_new_executive_contact_re_evaluates_the_floor_rule(
    integration_client, run_review, django_capture_on_commit_callbacks
):
    set_active_rules(
        [
            {
                "name": "Sponsor floor",
                "when": [{"signal": "has_executive_sponsor", "op": "==", "value": True}],
                "effect": {"type": "floor", "tier": "MM2"},
            }
        ]
    )
    account = AccountFactory(crm_source="salesforce", external_id="C-1", acv=Decimal("9000"))
    run_review()
    with django_capture_on_commit_callbacks(execute=True):
        integration_client.post(
            reverse("api:contacts-sync"),
            {
                "crm_source": "salesforce",
                "records": [
                    {"external_id": "C-1", "email": "cfo@c1.example", "name": "Cat", "is_executive": True}
                ],
            },
            format="json",
        )
    account.refresh_from_db()
    assert account.tier_code == "MM2"
    assert account.tier_explanation == (
        "ACV 9,000 < 15,000 → Mid-Market Tier 3; "
        "has an executive sponsor → raised to at least Mid-Market Tier 2."
    )


def test_initial_tiering_gives_every_untiered_account_a_tier(db):
    accounts = AccountFactory.create_batch(3, acv=Decimal("16000"))
    assert tier_assign_initial() == 3
    assert {a.tier_code for a in Account.objects.filter(pk__in=[a.pk for a in accounts])} == {"MM2"}
    assert set(TierChange.objects.values_list("source", flat=True)) == {"initial"}
    assert tier_assign_initial() == 0


def test_seeded_demo_data_gets_initial_tiers_with_explanations(db, django_capture_on_commit_callbacks):
    from accounts.signals import demo_data_seeded

    accounts = [AccountFactory(acv=Decimal(acv)) for acv in ("72000", "50000", "14999.99")]
    with django_capture_on_commit_callbacks(execute=True):  # the receiver queues a task
        demo_data_seeded.send(sender=Account, seed=1)
    tiered = Account.objects.filter(pk__in=[a.pk for a in accounts]).order_by("pk")
    assert [(a.tier_code, a.tier_source, a.tier_explanation) for a in tiered] == [
        ("ENT", "policy", "ACV 72,000 ≥ 70,000 → Enterprise."),
        ("MM1", "policy", "ACV 50,000 ≥ 50,000 → Mid-Market Tier 1."),
        ("MM3", "policy", "ACV 14,999.99 < 15,000 → Mid-Market Tier 3."),
    ]
