"""Every event of the API is recorded by the service where the change happens, in its transaction."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.services.renewals import renewal_record
from engagement.flags.services import Signal, flags_raise
from engagement.handoffs.services import commitment_accept, commitment_decline, commitment_log
from engagement.models import HandoffCommitment
from integrations.models import WebhookEventType, WebhookMessage
from integrations.services import webhook_endpoint_create
from segmentation.models import TierOverride
from segmentation.services.overrides import (
    tier_override_approve,
    tier_override_decline,
    tier_override_request,
)
from tests.engagement.factories import tiered_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener(lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    return webhook_endpoint_create(by=lena, url="http://127.0.0.1:9/hooks", events=WebhookEventType.values)


def bodies(event):
    return [json.loads(m.body) for m in WebhookMessage.objects.filter(event=event).order_by("id")]


def test_override_requested_and_decided(listener, alice, bob, lena, tom):
    account = tiered_account("MM2", csm=bob, ae=tom)
    # alice does not own the account: her override waits for leadership.
    override = tier_override_request(
        account=account, by=alice, tier_code="MM1", reason="expansion_potential", note="Big rollout"
    )
    [requested] = bodies("override.requested")
    assert requested["data"]["account"]["id"] == account.pk
    assert (requested["data"]["override"]["tier"], requested["data"]["override"]["status"]) == (
        "MM1",
        "pending",
    )
    assert requested["data"]["override"]["requested_by"] == "alice"
    tier_override_approve(override=override, by=lena, note="Agreed")
    [decided] = bodies("override.decided")
    assert decided["data"]["decision"] == "approved"
    assert decided["data"]["override"]["decided_by"] == "lena"
    second = tier_override_request(
        account=account, by=alice, tier_code="ENT", reason="strategic_logo", note="Logo"
    )
    tier_override_decline(override=second, by=lena, note="Not now")
    assert [b["data"]["decision"] for b in bodies("override.decided")] == ["approved", "declined"]
    assert TierOverride.objects.count() == 2


def test_commitment_logged_and_decided(listener, alice, tom, lena):
    account = tiered_account("MM1", csm=alice, ae=tom)
    commitment = commitment_log(
        by=tom, account=account, module_code="dedicated_specialist", cadence_days=None, deal_reference="OPP-7"
    )
    [logged] = bodies("commitment.logged")
    assert logged["data"]["commitment"]["id"] == commitment.pk
    assert (logged["data"]["commitment"]["module"], logged["data"]["commitment"]["status"]) == (
        "dedicated_specialist",
        "exceeds_tier",
    )
    commitment_accept(by=lena, commitment=commitment)
    other = commitment_log(by=tom, account=account, module_code="onboarding_kickoff", cadence_days=30)
    commitment_decline(by=lena, commitment=other, reason="Outside the tier")
    decided = bodies("commitment.decided")
    assert [(d["data"]["commitment"]["id"], d["data"]["decision"]) for d in decided] == [
        (commitment.pk, "accepted"),
        (other.pk, "declined"),
    ]
    assert decided[1]["data"]["commitment"]["decision_reason"] == "Outside the tier"
    assert HandoffCommitment.objects.count() == 2


def test_flag_raised(listener, alice):
    account = tiered_account("MM2", csm=alice)
    [flag] = flags_raise(signals=[Signal(account.pk, "usage_drop", "Active users down 40%.", {})])
    [raised] = bodies("flag.raised")
    assert raised["data"]["flag"]["id"] == flag.pk
    assert (raised["data"]["flag"]["kind"], raised["data"]["flag"]["explanation"]) == (
        "usage_drop",
        "Active users down 40%.",
    )
    # An open flag of the same kind is not raised again, so nothing is sent again.
    flags_raise(signals=[Signal(account.pk, "usage_drop", "Again.", {})])
    assert len(bodies("flag.raised")) == 1


def test_renewal_recorded(listener, alice):
    account = tiered_account("MM2", csm=alice)
    renewal_record(
        account=account,
        renewal_date=dt.date(2026, 10, 1),
        outcome="expanded",
        arr_before=Decimal("20000.00"),
        arr_after=Decimal("26000.00"),
        actor=alice,
        source="web",
    )
    [renewal] = bodies("renewal.recorded")
    assert renewal["data"]["account"]["external_id"] == account.external_id
    assert (renewal["data"]["renewal"]["outcome"], renewal["data"]["renewal"]["arr_after"]) == (
        "expanded",
        "26000.00",
    )


def test_health_band_changed(listener, alice):
    from segmentation.services.health import health_compute_accounts

    account = tiered_account("MM2", csm=alice)
    health_compute_accounts(account_ids=[account.pk])
    [first] = bodies("account.health_band_changed")
    assert first["data"]["account"]["id"] == account.pk
    assert first["data"]["from_band"] is None
    assert first["data"]["to_band"] in ("at_risk", "watch", "healthy")


def test_a_change_rolled_back_sends_nothing(listener, alice):
    account = tiered_account("MM2", csm=alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        flags_raise(signals=[Signal(account.pk, "usage_drop", "Down.", {})])
        raise RuntimeError("the change fails after the event")
    assert not WebhookMessage.objects.exists()


def test_a_review_records_one_message_per_tier_change(listener, alice, run_review_for_webhooks):
    accounts = [tiered_account("MM2", csm=alice) for _ in range(3)]
    type(accounts[0]).objects.filter(pk__in=[a.pk for a in accounts]).update(acv=Decimal("80000"))
    run_review_for_webhooks()
    changed = bodies("account.tier_changed")
    assert sorted(b["data"]["account"]["id"] for b in changed) == sorted(a.pk for a in accounts)
    assert {(b["data"]["from_tier"], b["data"]["to_tier"], b["data"]["source"]) for b in changed} == {
        ("MM2", "ENT", "review")
    }
    assert all(dt.datetime.fromisoformat(b["timestamp"]) <= timezone.now() for b in changed)
