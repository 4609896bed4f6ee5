"""Leadership pages: overview panels (query budgets independent of data size), drill-downs,
approvals inline, policy editor with inline validation, simulation, reviews with progress."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from accounts.models import Account
from engagement.models import HandoffCommitment
from segmentation.models import Tier, TierOverride, TierPolicy, TierReview
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

PANELS = [
    "/overview/tier-distribution/",
    "/overview/migrations/",
    "/overview/overrides/",
    "/overview/economics/",
    "/overview/coverage/",
    "/overview/commitments/",
    "/overview/capacity/",
]


def _book(n, csm, **kwargs):
    return AccountFactory.create_batch(
        n, csm=csm, acv=Decimal("80000"), tier_code="ENT", tier_name="Enterprise", tier_rank=1, **kwargs
    )


def _run_review(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reviews/start/")
    assert response.status_code == 302
    return TierReview.objects.latest("id")


@pytest.mark.parametrize("size", [5, 60])
def test_overview_page_and_panels_stay_within_15_queries(
    size, alice, bob, lena, signed_in, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    _book(size, alice)
    _book(size, bob)
    client = signed_in(lena)
    _run_review(client, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(15):
        assert client.get("/").status_code == 200
    for panel in PANELS:
        with django_assert_max_num_queries(15):
            response = client.get(panel, headers={"HX-Request": "true"})
        assert response.status_code == 200, panel


def test_overview_loads_every_panel_as_a_fragment_and_links_to_none(lena, signed_in):
    body = signed_in(lena).get("/").content.decode()
    for panel in PANELS:
        assert f'hx-get="{panel}"' in body
        assert f'href="{panel}"' not in body, "a link to a panel would open the same panel bare"


def test_migrations_leave_out_the_initial_tiering_and_drill_down_to_exactly_the_accounts_counted(
    alice, lena, signed_in, django_capture_on_commit_callbacks
):
    from segmentation.services.initial_tiers import tier_assign_initial

    grower = AccountFactory(csm=alice, acv=Decimal("9000"), name="Grower Co")
    AccountFactory.create_batch(3, csm=alice, acv=Decimal("9000"))
    tier_assign_initial()
    client = signed_in(lena)
    first = _run_review(client, django_capture_on_commit_callbacks)
    panel = client.get("/overview/migrations/", headers={"HX-Request": "true"}).content.decode()
    assert "No account changed tier" in panel, "the initial tiering is not a migration"

    Account.objects.filter(pk=grower.pk).update(acv=Decimal("90000"))
    second = _run_review(client, django_capture_on_commit_callbacks)
    assert second.pk != first.pk
    panel = client.get("/overview/migrations/", headers={"HX-Request": "true"}).content.decode()
    drill_url = f"/overview/migrations/{second.pk}/accounts/?from=MM3&amp;to=ENT"
    assert f'href="{drill_url}"' in panel
    drill = client.get(drill_url.replace("&amp;", "&")).content.decode()
    assert 'data-total="1"' in drill and "Grower Co" in drill
    assert len(re.findall(r'href="/accounts/\d+/"', drill)) == 1


def test_distribution_panel_drills_down_to_the_accounts(
    alice, lena, signed_in, django_capture_on_commit_callbacks
):
    _book(3, alice)
    AccountFactory(csm=alice, acv=Decimal("1000"), name="Tiny Co")
    client = signed_in(lena)
    _run_review(client, django_capture_on_commit_callbacks)
    body = client.get("/overview/tier-distribution/").content.decode()
    assert 'data-testid="tier-count-ENT">3<' in body
    assert "/accounts/?tier=MM3" in body
    drill = client.get("/accounts/", {"tier": "MM3"}).content.decode()
    assert "Tiny Co" in drill


def test_override_needing_approval_then_approved_moves_the_distribution(
    alice, lena, signed_in, django_capture_on_commit_callbacks
):
    account = AccountFactory(csm=alice, acv=Decimal("9000"), name="Jump Co")
    leader = signed_in(lena)
    _run_review(leader, django_capture_on_commit_callbacks)
    account.refresh_from_db()
    assert account.tier_code == "MM3"
    csm = signed_in(alice)
    response = csm.post(
        f"/accounts/{account.id}/override/",
        {
            "tier": "ENT",
            "reason": "executive_sponsor",
            "note": "CEO sponsors the rollout",
            "expires_on": (dt.date.today() + dt.timedelta(days=60)).isoformat(),
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert f"account-changed-{account.id}" in response["HX-Trigger"]
    override = TierOverride.objects.get(account=account)
    assert override.status == "pending"
    assert "awaiting CS Leadership approval" in csm.get(f"/accounts/{account.id}/tier/").content.decode()
    inbox = leader.get("/approvals/").content.decode()
    assert "Jump Co" in inbox and "CEO sponsors the rollout" in inbox
    decided = leader.post(
        f"/overrides/{override.id}/decide/", {"decision": "approve"}, headers={"HX-Request": "true"}
    )
    assert decided.status_code == 200 and "active" in decided.content.decode()
    again = leader.post(
        f"/overrides/{override.id}/decide/", {"decision": "approve"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 409 and "not awaiting approval" in again.content.decode()
    account.refresh_from_db()
    assert account.tier_code == "ENT" and account.tier_source == "override"
    panel = leader.get("/overview/tier-distribution/").content.decode()
    assert 'data-testid="tier-count-ENT">1<' in panel


def test_override_form_errors_are_next_to_the_fields(alice, signed_in):
    account = AccountFactory(csm=alice)
    response = signed_in(alice).post(
        f"/accounts/{account.id}/override/",
        {"tier": "ENT", "reason": "", "note": "", "expires_on": "2000-01-01"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_reason_error"' in body and 'id="id_note_error"' in body
    assert not TierOverride.objects.exists()


def test_decline_needs_a_reason(alice, lena, signed_in):
    account = AccountFactory(csm=alice, acv=Decimal("9000"), tier_code="MM3", tier_name="MM3", tier_rank=4)
    override = TierOverride.objects.create(
        account=account,
        tier_code="ENT",
        tier_name="Enterprise",
        tier_rank=1,
        reason="other",
        note="n",
        expires_on=dt.date.today() + dt.timedelta(days=30),
        status="pending",
        needs_approval=True,
        requested_by=alice,
    )
    client = signed_in(lena)
    response = client.post(
        f"/overrides/{override.id}/decide/", {"decision": "decline"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400 and "Say why" in response.content.decode()


def test_commitment_accepted_inline_from_the_inbox(tom, lena, signed_in):
    account = AccountFactory(ae=tom, acv=Decimal("9000"), tier_code="MM3", tier_name="MM3", tier_rank=4)
    signed_in(tom).post(f"/handoffs/{account.id}/", {"module": "qbr", "cadence_days": 30})
    commitment = HandoffCommitment.objects.get()
    assert commitment.status == "exceeds_tier"
    client = signed_in(lena)
    panel = client.get("/overview/commitments/").content.decode()
    assert "1 waiting" in panel
    response = client.post(
        f"/commitments/{commitment.id}/decide/",
        {"decision": "approve", "reason": "Strategic"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "accepted exception" in response.content.decode()
    commitment.refresh_from_db()
    assert commitment.status == "accepted"
    stale = client.post(
        f"/commitments/{commitment.id}/decide/",
        {"decision": "decline", "reason": "x"},
        headers={"HX-Request": "true"},
    )
    assert stale.status_code == 409


def _draft(client):
    response = client.post("/policies/new/")
    assert response.status_code == 302
    return TierPolicy.objects.get(status="draft")


def _editor_post(policy, **changes):
    tiers = list(Tier.objects.filter(policy=policy).order_by("rank"))
    data = {
        "name": policy.name,
        "hysteresis_band": "0.100",
        "downgrade_after_consecutive_reviews": 2,
        "apply_mode": "auto",
        "notes": "",
        "rules": "[]",
        "tiers-TOTAL_FORMS": len(tiers),
        "tiers-INITIAL_FORMS": len(tiers),
        "tiers-MIN_NUM_FORMS": 1,
        "tiers-MAX_NUM_FORMS": 12,
    }
    for i, t in enumerate(tiers):
        data.update(
            {
                f"tiers-{i}-code": t.code,
                f"tiers-{i}-name": t.name,
                f"tiers-{i}-rank": t.rank,
                f"tiers-{i}-touch_model": t.touch_model,
                f"tiers-{i}-min_acv": str(t.min_acv),
            }
        )
    data.update(changes)
    return data


def test_policy_editor_saves_a_draft_and_shows_errors_inline(lena, signed_in):
    client = signed_in(lena)
    draft = _draft(client)
    ok = client.post(
        f"/policies/{draft.id}/",
        _editor_post(draft, **{"tiers-0-min_acv": "90000"}),
        headers={"HX-Request": "true"},
    )
    assert ok.status_code == 200 and "Draft saved" in ok.content.decode()
    assert Tier.objects.get(policy=draft, rank=1).min_acv == Decimal("90000")
    bad = client.post(
        f"/policies/{draft.id}/",
        _editor_post(draft, **{"tiers-1-code": "ENT", "rules": "{nope"}),
        headers={"HX-Request": "true"},
    )
    body = bad.content.decode()
    assert bad.status_code == 422
    assert "Enter a valid JSON" in body
    bad = client.post(
        f"/policies/{draft.id}/",
        _editor_post(draft, **{"tiers-1-code": "ENT"}),
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and "used twice" in bad.content.decode()


def test_simulation_shows_before_after_and_transitions(alice, lena, signed_in):
    _book(2, alice)
    AccountFactory(csm=alice, acv=Decimal("75000"), tier_code="ENT", tier_name="Enterprise", tier_rank=1)
    client = signed_in(lena)
    draft = _draft(client)
    client.post(f"/policies/{draft.id}/", _editor_post(draft, **{"tiers-0-min_acv": "78000"}))
    response = client.post(f"/policies/{draft.id}/simulate/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-chart="chart-simulation"' in body and "Transitions" in body
    assert "would change tier" in body


def test_activate_then_editing_the_stale_page_is_a_conflict(lena, signed_in):
    client = signed_in(lena)
    draft = _draft(client)
    assert client.post(f"/policies/{draft.id}/activate/").status_code == 302
    draft.refresh_from_db()
    assert draft.status == "active"
    stale = client.post(f"/policies/{draft.id}/", _editor_post(draft), headers={"HX-Request": "true"})
    assert stale.status_code == 409 and "can no longer be edited" in stale.content.decode()
    assert client.post(f"/policies/{draft.id}/activate/").status_code == 409


def test_review_progress_polls_while_open_and_shows_the_result(
    alice, lena, signed_in, django_capture_on_commit_callbacks
):
    _book(3, alice)
    client = signed_in(lena)
    queued = TierReview.objects.create(policy=TierPolicy.objects.get(status="active"), accounts_total=3)
    polling = client.get(f"/reviews/{queued.id}/progress/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in polling and "Queued" in polling
    queued.delete()
    review = _run_review(client, django_capture_on_commit_callbacks)
    done = client.get(f"/reviews/{review.id}/progress/", headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in done
    assert "100%" in done and "Changes applied" in done


def test_second_review_start_opens_the_running_one(lena, signed_in):
    running = TierReview.objects.create(policy=TierPolicy.objects.get(status="active"), status="running")
    response = signed_in(lena).post("/reviews/start/")
    assert response["Location"] == f"/reviews/{running.id}/"


def test_override_reason_drills_down_to_the_overridden_accounts(alice, lena, signed_in):
    account = AccountFactory(
        csm=alice, name="Sponsored Co", acv=Decimal("9000"), tier_code="MM3", tier_name="MM3", tier_rank=4
    )
    other = AccountFactory(csm=alice, name="Plain Co")
    TierOverride.objects.create(
        account=account,
        tier_code="MM2",
        tier_name="MM2",
        tier_rank=3,
        reason="executive_sponsor",
        note="n",
        expires_on=dt.date.today() + dt.timedelta(days=30),
        status="active",
        requested_by=alice,
    )
    client = signed_in(lena)
    panel = client.get("/overview/overrides/", headers={"HX-Request": "true"}).content.decode()
    assert "/overview/overrides/executive_sponsor/accounts/" in panel
    drill = client.get("/overview/overrides/executive_sponsor/accounts/").content.decode()
    assert "Sponsored Co" in drill and other.name not in drill
    assert client.get("/overview/overrides/nonsense/accounts/").status_code == 404


def test_quadrant_drill_down_lists_accounts_by_acv(alice, lena, signed_in):
    AccountFactory(csm=alice, name="Big Co", acv=Decimal("900000"))
    AccountFactory(csm=alice, name="Small Co", acv=Decimal("1000"))
    client = signed_in(lena)
    high = client.get("/overview/quadrants/high_revenue_low_cost/accounts/").content.decode()
    assert "Big Co" in high and "Small Co" not in high
    assert 'data-total="1"' in high
    low = client.get("/overview/quadrants/low_revenue_low_cost/accounts/").content.decode()
    assert "Small Co" in low


def test_a_panel_opened_as_a_plain_link_comes_inside_the_layout(lena, signed_in):
    client = signed_in(lena)
    page = client.get("/overview/capacity/").content.decode()
    fragment = client.get("/overview/capacity/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" in page and 'class="topbar"' in page
    assert "<html" not in fragment and "CSM capacity" in fragment


def test_policy_editor_validates_inline_without_saving(lena, signed_in):
    client = signed_in(lena)
    draft = _draft(client)
    headers = {"HX-Request": "true"}
    bad = client.post(
        f"/policies/{draft.id}/validate/", _editor_post(draft, **{"tiers-1-code": "ENT"}), headers=headers
    )
    assert bad.status_code == 200 and "used twice" in bad.content.decode()
    ok = client.post(
        f"/policies/{draft.id}/validate/",
        _editor_post(draft, **{"tiers-0-min_acv": "99000"}),
        headers=headers,
    )
    assert "valid" in ok.content.decode() and "Not valid" not in ok.content.decode()
    assert Tier.objects.get(policy=draft, rank=1).min_acv == Decimal("70000")
