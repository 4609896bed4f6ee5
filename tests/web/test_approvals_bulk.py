"""Bulk decisions on the approvals page: tier overrides, add-ons and AE commitments.

Each ticked row goes through the single decision's service; the section answers with one result
per row next to the row, a refused row is reported on its own row and nothing else is held back,
and a refused batch (a decline without a reason) changes nothing and names the field."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from engagement.models import HandoffCommitment
from playbooks.models import AccountAddOn, ServiceModule
from segmentation.models import TierOverride
from tests.engagement.factories import CommitmentFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _pending_override(requested_by, *, name: str, expires_in_days: int = 30) -> TierOverride:
    return TierOverride.objects.create(
        account=AccountFactory(name=name),
        tier_code="ENT",
        tier_name="Enterprise",
        tier_rank=1,
        policy_tier_code="MM3",
        reason="executive_sponsor",
        note="Sponsor asked",
        expires_on=timezone.localdate() + dt.timedelta(days=expires_in_days),
        status="pending",
        needs_approval=True,
        requested_by=requested_by,
    )


def _pending_add_on(requested_by, *, name: str) -> AccountAddOn:
    return AccountAddOn.objects.create(
        account=AccountFactory(name=name),
        module=ServiceModule.objects.get(code="qbr"),
        cadence_days=30,
        starts_on=timezone.localdate(),
        requested_by=requested_by,
        note="Asked for monthly QBRs",
    )


def _row(body: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}".*?</tr>', body, re.S)
    assert match, f"no row {row_id} in the answer"
    return match.group(0)


@pytest.mark.parametrize("size", [1, 6])
def test_the_approvals_page_offers_a_bulk_bar_and_a_tick_box_per_row_in_each_section(
    size, alice, lena, signed_in, django_assert_max_num_queries
):
    for i in range(size):
        _pending_override(alice, name=f"Over Co {i}")
        _pending_add_on(alice, name=f"Addon Co {i}")
        CommitmentFactory(account=AccountFactory(name=f"Promise Co {i}"))
    client = signed_in(lena)
    with django_assert_max_num_queries(10):  # the same at any size
        body = client.get("/approvals/").content.decode()
    for form_id, action in [
        ("overrides-bulk", "/approvals/overrides/"),
        ("commitments-bulk", "/approvals/commitments/"),
        ("addons-bulk", "/approvals/add-ons/"),
    ]:
        assert f'id="{form_id}"' in body and f'hx-post="{action}"' in body
        assert body.count(f'form="{form_id}"') == size
        assert f'data-tick-all="{form_id}"' in body
    assert body.count('name="csrfmiddlewaretoken"') >= 6


def test_bulk_approving_overrides_decides_each_and_reports_an_expired_one_on_its_row(alice, lena, signed_in):
    fresh = [_pending_override(alice, name=f"Fresh {i}") for i in range(2)]
    expired = _pending_override(alice, name="Expired Co", expires_in_days=0)
    untouched = _pending_override(alice, name="Not Ticked")

    response = signed_in(lena).post(
        "/approvals/overrides/",
        {"ids": [o.pk for o in [*fresh, expired]], "decision": "approve", "note": "Fine"},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert {TierOverride.objects.get(pk=o.pk).status for o in fresh} == {"active"}
    assert TierOverride.objects.get(pk=expired.pk).status == "pending"
    assert TierOverride.objects.get(pk=untouched.pk).status == "pending"
    for override in fresh:
        row = _row(body, f"override-{override.pk}")
        assert "Decided in the batch." in row and 'class="row-updated"' in row
        assert 'name="ids"' not in row
    refused = _row(body, f"override-{expired.pk}")
    assert "Not decided: This request has already passed its expiry" in refused
    assert 'name="ids"' in refused and "checked" in refused  # still ticked, to retry or decline
    assert 'name="ids"' in _row(body, f"override-{untouched.pk}")
    assert "2 overrides approved. 1 not decided: the reason is next to its row." in body
    assert "<html" not in body


def test_bulk_declining_overrides_without_a_reason_changes_nothing_and_names_the_field(
    alice, lena, signed_in
):
    waiting = _pending_override(alice, name="Waiting Co")
    response = signed_in(lena).post(
        "/approvals/overrides/", {"ids": [waiting.pk], "decision": "decline", "note": " "}, headers=HTMX
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Reason: Say why the overrides are declined" in body and "Nothing was decided." in body
    assert "checked" in _row(body, f"override-{waiting.pk}"), "the tick is kept to decide again"
    assert TierOverride.objects.get(pk=waiting.pk).status == "pending"


def test_bulk_declining_add_ons_reports_one_decided_meanwhile_on_its_row(alice, lena, signed_in):
    waiting = [_pending_add_on(alice, name=f"Waiting {i}") for i in range(2)]
    meanwhile = _pending_add_on(alice, name="Decided Meanwhile")
    AccountAddOn.objects.filter(pk=meanwhile.pk).update(status="approved", decided_at=timezone.now())

    response = signed_in(lena).post(
        "/approvals/add-ons/",
        {"ids": [a.pk for a in [*waiting, meanwhile]], "decision": "decline", "reason": "Not this year"},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    stored = {a.pk: (a.status, a.decision_reason) for a in AccountAddOn.objects.all()}
    assert stored[waiting[0].pk] == stored[waiting[1].pk] == ("declined", "Not this year")
    assert stored[meanwhile.pk][0] == "approved"
    assert "Decided in the batch." in _row(body, f"addon-{waiting[0].pk}")
    assert "Not decided: This add-on was already approved." in _row(body, f"addon-{meanwhile.pk}")
    assert "2 add-ons declined. 1 not decided" in body


def test_bulk_commitments_report_each_row_and_a_deleted_one(tom, lena, signed_in):
    ticked = CommitmentFactory(account=AccountFactory(ae=tom, name="Promise Co"))
    gone = CommitmentFactory(account=AccountFactory(ae=tom, name="Gone Co"))
    gone_pk = gone.pk
    gone.delete()

    response = signed_in(lena).post(
        "/approvals/commitments/",
        {"ids": [ticked.pk, gone_pk], "decision": "approve", "reason": "Strategic"},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert HandoffCommitment.objects.get(pk=ticked.pk).status == "accepted"
    assert "Decided in the batch." in _row(body, f"commitment-{ticked.pk}")
    assert "1 commitment accepted as exceptions. 1 not decided" in body


def test_bulk_decisions_refuse_bad_ids_with_a_4xx_and_are_for_leaders_only(alice, lena, signed_in):
    waiting = _pending_add_on(alice, name="Addon Co")
    leader = signed_in(lena)
    for ids in (["abc"], []):
        response = leader.post("/approvals/add-ons/", {"ids": ids, "decision": "approve"}, headers=HTMX)
        assert response.status_code == 422
        assert "Ticked rows:" in response.content.decode()
    assert (
        signed_in(alice)
        .post("/approvals/add-ons/", {"ids": [waiting.pk], "decision": "approve"}, headers=HTMX)
        .status_code
        == 403
    )
    assert AccountAddOn.objects.get(pk=waiting.pk).status == "pending"


def test_without_htmx_a_bulk_decision_returns_to_the_page_with_its_summary(alice, lena, signed_in):
    waiting = _pending_add_on(alice, name="Addon Co")
    client = signed_in(lena)
    response = client.post("/approvals/add-ons/", {"ids": [waiting.pk], "decision": "approve"}, follow=True)
    assert response.redirect_chain[-1][0] == "/approvals/"
    assert "1 add-on approved." in response.content.decode()
    assert AccountAddOn.objects.get(pk=waiting.pk).status == "approved"


def test_without_htmx_a_refused_batch_answers_the_page_with_a_422_and_changes_nothing(alice, lena, signed_in):
    waiting = _pending_add_on(alice, name="Addon Co")
    response = signed_in(lena).post("/approvals/add-ons/", {"ids": [waiting.pk], "decision": "decline"})
    body = response.content.decode()
    assert response.status_code == 422 and "<html" in body
    assert "Reason: Say why the add-ons are declined." in body
    assert "checked" in _row(body, f"addon-{waiting.pk}")
    assert AccountAddOn.objects.get(pk=waiting.pk).status == "pending"
