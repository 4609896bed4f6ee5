"""AE handoffs: my accounts, commitments checked against entitlements, visibility by AE."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engagement.models import HandoffCommitment
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _mm3(**kwargs):
    return AccountFactory(
        acv=Decimal("9000"), tier_code="MM3", tier_name="Mid-Market Tier 3", tier_rank=4, **kwargs
    )


def test_handoffs_is_the_ae_home_with_my_accounts(tom, tina, signed_in):
    _mm3(name="Tom Deal", ae=tom)
    _mm3(name="Tina Deal", ae=tina)
    body = signed_in(tom).get("/").content.decode()
    assert "My handoffs" in body and "Tom Deal" in body and "Tina Deal" not in body


def test_commitment_exceeding_the_tier_is_flagged(tom, signed_in, htmx_headers):
    account = _mm3(ae=tom)
    client = signed_in(tom)
    page = client.get(f"/handoffs/{account.id}/").content.decode()
    assert "What MM3 includes" in page
    response = client.post(
        f"/handoffs/{account.id}/",
        {"module": "qbr", "cadence_days": 30, "deal_reference": "OPP-1"},
        headers=htmx_headers,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "exceeds tier" in body
    commitment = HandoffCommitment.objects.get(account=account)
    assert commitment.status == "exceeds_tier"


def test_check_preview_uses_the_same_rule_before_saving(tom, signed_in, htmx_headers):
    account = _mm3(ae=tom)
    response = signed_in(tom).post(
        f"/handoffs/{account.id}/check/", {"module": "qbr", "cadence_days": 30}, headers=htmx_headers
    )
    assert response.status_code == 200 and "exceeds tier" in response.content.decode()
    assert not HandoffCommitment.objects.exists()


def test_commitment_form_errors_next_to_fields(tom, signed_in, htmx_headers):
    account = _mm3(ae=tom)
    response = signed_in(tom).post(f"/handoffs/{account.id}/", {"cadence_days": 0}, headers=htmx_headers)
    assert response.status_code == 422
    assert 'id="id_cadence_days_error"' in response.content.decode()
    assert not HandoffCommitment.objects.exists()


def test_ae_cannot_open_another_aes_handoff(tom, tina, signed_in):
    account = _mm3(ae=tina)
    client = signed_in(tom)
    assert client.get(f"/handoffs/{account.id}/").status_code == 404
    assert client.post(f"/handoffs/{account.id}/", {"description": "x"}).status_code == 404


def test_csm_cannot_open_handoffs(alice, signed_in):
    assert signed_in(alice).get("/handoffs/").status_code == 403


def test_the_ae_handoffs_page_is_paged_with_a_total_and_searchable(
    tom, signed_in, django_assert_max_num_queries
):
    AccountFactory.create_batch(30, ae=tom)
    AccountFactory(ae=tom, name="Zebra Logistics")
    client = signed_in(tom)

    first = client.get("/handoffs/").content.decode()
    found = client.get("/handoffs/", {"q": "zebra"}, headers={"HX-Request": "true"}).content.decode()

    assert 'data-total="31"' in first and "Page 1 of 2 · 31 in all" in first
    assert first.count(">Log commitment<") == 25
    assert 'data-total="1"' in found and "Zebra Logistics" in found and "<html" not in found
    AccountFactory.create_batch(30, ae=tom)
    with django_assert_max_num_queries(12):
        assert client.get("/handoffs/", {"page": "3"}).status_code == 200


def test_a_leader_declines_the_ticked_commitments_at_once_and_sees_what_is_still_waiting(
    tom, lena, signed_in
):
    from tests.engagement.factories import CommitmentFactory

    ticked = [CommitmentFactory(account=AccountFactory(ae=tom), status="exceeds_tier") for _ in range(3)]
    untouched = CommitmentFactory(account=AccountFactory(ae=tom, name="Kept Waiting"), status="exceeds_tier")
    client = signed_in(lena)

    response = client.post(
        "/approvals/commitments/",
        {"ids": [c.pk for c in ticked], "decision": "decline", "reason": "Not in this tier"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "3 commitments declined." in body and "Kept Waiting" in body
    assert {c.status for c in HandoffCommitment.objects.filter(pk__in=[c.pk for c in ticked])} == {"declined"}
    assert HandoffCommitment.objects.get(pk=untouched.pk).status == "exceeds_tier"


def test_a_bulk_decline_without_a_reason_changes_nothing_and_says_so_next_to_the_list(tom, lena, signed_in):
    from tests.engagement.factories import CommitmentFactory

    waiting = CommitmentFactory(account=AccountFactory(ae=tom), status="exceeds_tier")
    response = signed_in(lena).post(
        "/approvals/commitments/",
        {"ids": [waiting.pk], "decision": "decline", "reason": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert 'class="inline-error"' in response.content.decode()
    assert HandoffCommitment.objects.get(pk=waiting.pk).status == "exceeds_tier"
