"""Governed overrides and proposals, through the API: reasons, expiry, approvals, rejection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from segmentation.models import TierChange, TierOverride
from segmentation.services import tier_overrides_expire
from segmentation.signals import override_applied, tier_changed
from tests.factories import AccountFactory
from tests.segmentation.factories import set_active_rules


@pytest.fixture
def tiered(run_review, alice):
    """alice's MM1 account (ACV 62,000), tiered by a review."""
    account = AccountFactory(acv=Decimal("62000"), csm=alice)
    run_review()
    account.refresh_from_db()
    return account


def override(client, account, **data):
    payload = {"tier": "ENT", "reason": "executive_sponsor", "note": "CFO sponsors the rollout", **data}
    return client.post(reverse("api:accounts-tier-override", args=[account.pk]), payload, format="json")


def test_the_owner_overrides_one_rank_at_once_and_higher_apps_hear_of_it(
    alice, token_client, tiered, django_capture_on_commit_callbacks
):
    heard = []
    override_applied.connect(
        lambda **kw: heard.append(("override", kw["tier_code"])), weak=False, dispatch_uid="t1"
    )
    tier_changed.connect(lambda **kw: heard.append(("tier", kw["to_code"])), weak=False, dispatch_uid="t2")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = override(token_client(alice), tiered)
    finally:
        override_applied.disconnect(dispatch_uid="t1")
        tier_changed.disconnect(dispatch_uid="t2")
    assert response.status_code == 201
    assert heard == [("tier", "ENT"), ("override", "ENT")]
    body = response.json()
    assert (body["status"], body["needs_approval"], body["policy_tier"]) == ("active", False, "MM1")
    expires = timezone.localdate() + dt.timedelta(days=90)
    assert body["expires_on"] == expires.isoformat()
    tiered.refresh_from_db()
    assert (tiered.tier_code, tiered.tier_source) == ("ENT", "override")
    assert tiered.tier_explanation == (
        f"Overridden to ENT by alice until {expires.isoformat()}: "
        "executive sponsor — CFO sponsors the rollout "
        "(policy: ACV 62,000 ≥ 50,000 → Mid-Market Tier 1.)"
    )
    change = TierChange.objects.filter(account=tiered).first()
    assert (change.source, change.from_code, change.to_code, change.by) == ("override", "MM1", "ENT", alice)


def test_a_move_of_more_than_one_rank_waits_for_leadership(alice, lena, token_client, tiered):
    response = override(
        token_client(alice), tiered, tier="MM3", reason="at_risk", note="Budget cut announced"
    )
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["needs_approval"]) == ("pending", True)
    tiered.refresh_from_db()
    assert (tiered.tier_code, tiered.tier_source) == ("MM1", "policy")

    approved = token_client(lena).post(
        reverse("api:tier-overrides-approve", args=[response.json()["id"]]), {"note": "Agreed"}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    tiered.refresh_from_db()
    assert (tiered.tier_code, tiered.tier_source) == ("MM3", "override")


def test_an_override_on_someone_elses_account_waits_for_leadership(bob, alice, token_client, run_review):
    bobs = AccountFactory(acv=Decimal("62000"), csm=bob)
    run_review()
    # alice cannot see bob's account at all through the API
    assert override(token_client(alice), bobs).status_code == 404
    from segmentation.services import tier_override_request

    pending = tier_override_request(
        account=bobs, by=alice, tier_code="ENT", reason="strategic_logo", note="Flagship"
    )
    assert pending.status == "pending"


def test_leadership_declines_with_a_reason_and_nothing_changes(alice, lena, token_client, tiered):
    pending = override(token_client(alice), tiered, tier="MM3", reason="at_risk", note="Budget cut").json()
    url = reverse("api:tier-overrides-decline", args=[pending["id"]])
    assert token_client(lena).post(url, {"note": ""}, format="json").status_code == 400
    declined = token_client(lena).post(url, {"note": "Renewal is safe"}, format="json")
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["decision_note"]) == ("declined", "Renewal is safe")
    tiered.refresh_from_db()
    assert tiered.tier_code == "MM1"


def test_a_csm_may_not_approve(alice, token_client, tiered):
    pending = override(token_client(alice), tiered, tier="MM3", reason="at_risk", note="Budget cut").json()
    response = token_client(alice).post(
        reverse("api:tier-overrides-approve", args=[pending["id"]]), {}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"note": ""}, "note", "This field may not be blank."),
        ({"reason": "vibes"}, "reason", '"vibes" is not a valid choice.'),
        ({"tier": "GOLD"}, "tier", "Unknown tier 'GOLD'"),
        ({"tier": "MM1"}, "tier", "Mid-Market Tier 1 is already the policy's tier for this account."),
        ({"expires_on": "2000-01-01"}, "expires_on", "The expiry must be after today."),
    ],
)
def test_bad_override_requests_are_refused_field_by_field(alice, token_client, tiered, data, field, message):
    response = override(token_client(alice), tiered, **data)
    assert response.status_code == 400
    assert any(m.startswith(message) for m in response.json()[field]), response.json()
    assert not TierOverride.objects.exists()


def test_an_expiry_beyond_365_days_is_refused(alice, token_client, tiered):
    too_far = timezone.localdate() + dt.timedelta(days=366)
    response = override(token_client(alice), tiered, expires_on=too_far.isoformat())
    assert response.status_code == 400
    assert response.json()["expires_on"][0].startswith("An override lasts at most 365 days")
    at_limit = timezone.localdate() + dt.timedelta(days=365)
    assert override(token_client(alice), tiered, expires_on=at_limit.isoformat()).status_code == 201


def test_aes_may_not_override(tom, token_client, run_review):
    account = AccountFactory(acv=Decimal("62000"), ae=tom)
    run_review()
    assert override(token_client(tom), account).status_code == 403


def test_an_expired_override_falls_back_to_the_policy(alice, token_client, tiered, time_machine):
    expires = timezone.localdate() + dt.timedelta(days=30)
    override(token_client(alice), tiered, expires_on=expires.isoformat())
    time_machine.move_to(dt.datetime.combine(expires, dt.time(12), tzinfo=dt.UTC))
    assert tier_overrides_expire() == 0  # still valid on its last day
    time_machine.move_to(dt.datetime.combine(expires + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC))
    assert tier_overrides_expire() == 1
    tiered.refresh_from_db()
    assert (tiered.tier_code, tiered.tier_source) == ("MM1", "policy")
    assert tiered.tier_explanation == "ACV 62,000 ≥ 50,000 → Mid-Market Tier 1."
    assert TierOverride.objects.get().status == "expired"
    fallback = TierChange.objects.filter(account=tiered).first()
    assert (fallback.from_code, fallback.to_code, fallback.source) == ("ENT", "MM1", "event")


# --- proposals (apply mode "propose") --------------------------------------------------------------


@pytest.fixture
def proposal(tiered, run_review):
    set_active_rules([], apply_mode="propose")
    Account.objects.filter(pk=tiered.pk).update(acv=Decimal("90000"))
    review = run_review()
    assert (review.changes_applied, review.changes_proposed) == (0, 1)
    return TierChange.objects.get(status="proposed")


def test_a_proposal_waits_and_the_account_says_so(proposal, tiered):
    tiered.refresh_from_db()
    assert tiered.tier_code == "MM1"
    assert tiered.tier_explanation == (
        "Mid-Market Tier 1 until the proposed move to Enterprise is accepted or rejected. "
        "Proposed because: ACV 90,000 ≥ 70,000 → Enterprise."
    )
    assert (proposal.from_code, proposal.to_code, proposal.source) == ("MM1", "ENT", "review")


def test_a_second_review_does_not_propose_twice(proposal, run_review):
    run_review()
    assert TierChange.objects.filter(status="proposed").count() == 1


def test_the_owner_accepts_a_proposal(proposal, tiered, alice, token_client):
    response = token_client(alice).post(reverse("api:tier-proposals-accept", args=[proposal.pk]))
    assert response.status_code == 200 and response.json()["status"] == "applied"
    tiered.refresh_from_db()
    assert (tiered.tier_code, tiered.tier_explanation) == ("ENT", "ACV 90,000 ≥ 70,000 → Enterprise.")
    history = (
        token_client(alice).get(reverse("api:accounts-tier-history", args=[tiered.pk])).json()["results"]
    )
    assert [(h["from_tier"], h["to_tier"], h["by"]) for h in history] == [
        ("MM1", "ENT", "alice"),
        ("", "MM1", None),
    ]


def test_another_csm_cannot_see_or_decide_the_proposal(proposal, bob, token_client):
    assert token_client(bob).post(reverse("api:tier-proposals-accept", args=[proposal.pk])).status_code == 404
    assert token_client(bob).get(reverse("api:tier-proposals-list")).json()["results"] == []


def test_rejecting_a_proposal_is_an_override(proposal, tiered, alice, token_client, run_review):
    response = token_client(alice).post(
        reverse("api:tier-proposals-reject", args=[proposal.pk]),
        {"reason": "legacy_relationship", "note": "Spend is a one-off licence true-up"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["tier"], body["policy_tier"]) == ("active", "MM1", "ENT")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("rejected", alice)
    tiered.refresh_from_db()
    assert (tiered.tier_code, tiered.tier_source) == ("MM1", "override")
    assert "legacy relationship — Spend is a one-off licence true-up" in tiered.tier_explanation
    run_review()
    assert not TierChange.objects.filter(status="proposed").exists()


def test_rejecting_needs_a_reason(proposal, alice, token_client):
    response = token_client(alice).post(
        reverse("api:tier-proposals-reject", args=[proposal.pk]), {}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"reason", "note"}
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
