"""Governance of tier inputs end to end, through the API, the pages and the admin.

A CSM cannot move their own account up several tiers by changing its ACV: the change waits for CS
Leadership, and a tier proposal caused by a person's own change is never accepted by that person
when it moves the account more than one rank (in ``propose`` mode), whoever they are.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Account, AccountFieldChange, AccountInputProposal
from segmentation.models import TierChange
from tests.factories import AccountFactory, UserFactory
from tests.segmentation.factories import set_active_rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(run_review, alice, tom):
    """alice's MM3 account (ACV 10,000), tiered by a review, under a policy that proposes."""
    account = AccountFactory(acv=Decimal("10000"), csm=alice, ae=tom)
    run_review()
    set_active_rules([], apply_mode="propose")
    account.refresh_from_db()
    assert account.tier_code == "MM3"
    return account


def patch(client, account, body):
    return client.patch(reverse("api:accounts-detail", args=[account.pk]), body, format="json")


def accept(client, change):
    return client.post(reverse("api:tier-proposals-accept", args=[change.pk]))


def test_a_csm_cannot_walk_their_account_up_three_tiers(
    small, alice, lena, token_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(token_client(alice), small, {"acv": "90000.00"})
    assert response.status_code == 202
    small.refresh_from_db()
    assert (small.acv, small.tier_code) == (Decimal("10000.00"), "MM3")
    assert not TierChange.objects.filter(status="proposed").exists()

    proposal = AccountInputProposal.objects.get()
    # Her own request is not hers to approve (and she is no approver).
    own = token_client(alice).post(reverse("api:input-proposals-approve", args=[proposal.pk]))
    assert own.status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        approved = token_client(lena).post(
            reverse("api:input-proposals-approve", args=[proposal.pk]), {"note": "Signed"}, format="json"
        )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    small.refresh_from_db()
    assert small.acv == Decimal("90000.00")
    assert AccountFieldChange.objects.filter(account=small, field="acv").get().changed_by == lena

    change = TierChange.objects.get(status="proposed")
    assert (change.from_code, change.to_code) == ("MM3", "ENT")
    refused = accept(token_client(alice), change)
    assert refused.status_code == 403
    assert "another person" in refused.json()["detail"]
    small.refresh_from_db()
    assert small.tier_code == "MM3"
    # The same door on the page answers the same.
    client = Client()
    client.force_login(alice)
    assert client.post(reverse("segmentation:proposal-accept", args=[change.pk])).status_code == 403
    # Someone else (leadership) accepts it.
    assert accept(token_client(lena), change).status_code == 200
    small.refresh_from_db()
    assert small.tier_code == "ENT"


def test_leadership_does_not_accept_a_big_move_it_caused_itself(
    small, alice, lena, token_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert patch(token_client(lena), small, {"acv": "90000.00"}).status_code == 200
    change = TierChange.objects.get(status="proposed")
    assert accept(token_client(lena), change).status_code == 403
    assert accept(token_client(alice), change).status_code == 200
    small.refresh_from_db()
    assert small.tier_code == "ENT"


def test_a_one_rank_move_one_caused_may_be_accepted(
    small, lena, token_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert patch(token_client(lena), small, {"acv": "20000.00"}).status_code == 200
    change = TierChange.objects.get(status="proposed")
    assert (change.from_code, change.to_code) == ("MM3", "MM2")
    assert accept(token_client(lena), change).status_code == 200


def test_a_big_move_nobody_caused_may_be_accepted_by_the_owner(small, alice, token_client, run_review):
    Account.objects.filter(pk=small.pk).update(acv=Decimal("90000"))  # as a CRM would, unseen here
    run_review()
    change = TierChange.objects.get(status="proposed")
    assert accept(token_client(alice), change).status_code == 200


def test_a_declined_input_proposal_changes_nothing(small, alice, lena, token_client):
    stage = small.lifecycle_stage
    assert patch(token_client(alice), small, {"lifecycle_stage": "mature"}).status_code == 202
    proposal = AccountInputProposal.objects.get()
    response = token_client(lena).post(reverse("api:input-proposals-decline", args=[proposal.pk]))
    assert response.status_code == 200 and response.json()["status"] == "declined"
    small.refresh_from_db()
    assert small.lifecycle_stage == stage
    again = token_client(lena).post(reverse("api:input-proposals-approve", args=[proposal.pk]))
    assert again.status_code == 404  # no longer pending


# --- the admin follows the same service ------------------------------------------------------------


@pytest.fixture
def staff_csm(alice):
    alice.is_staff = True
    alice.save()
    alice.user_permissions.add(*Permission.objects.filter(codename__in=["change_account", "view_account"]))
    return alice


def admin_form(account: Account, **changes) -> dict:
    data = {
        "name": account.name,
        "domain": account.domain,
        "vertical": account.vertical,
        "region": account.region,
        "acv": str(account.acv),
        "lifecycle_stage": account.lifecycle_stage,
        "contract_start": account.contract_start.isoformat() if account.contract_start else "",
        "renewal_date": account.renewal_date.isoformat() if account.renewal_date else "",
        "csm": account.csm_id or "",
        "ae": account.ae_id or "",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "field_changes-TOTAL_FORMS": "0",
        "field_changes-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_a_staff_csms_acv_edit_in_the_admin_is_a_proposal(client, staff_csm, small):
    client.force_login(staff_csm)
    url = reverse("admin:accounts_account_change", args=[small.pk])
    response = client.post(url, admin_form(small, acv="90000.00", domain="n.example"))
    assert response.status_code == 302
    small.refresh_from_db()
    assert (small.acv, small.domain) == (Decimal("10000.00"), "n.example")
    assert AccountInputProposal.objects.get().changes == {"acv": "90000.00"}


def test_the_admin_refuses_an_owner_without_the_role(client, small, tom):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    url = reverse("admin:accounts_account_change", args=[small.pk])
    response = client.post(url, admin_form(small, csm=tom.pk))
    assert response.status_code == 200
    assert "does not hold the CSM role" in response.content.decode()
    small.refresh_from_db()
    assert small.csm.username == "alice"


def test_a_staff_csm_may_not_move_the_account_in_the_admin(client, staff_csm, small, bob):
    client.force_login(staff_csm)
    url = reverse("admin:accounts_account_change", args=[small.pk])
    response = client.post(url, admin_form(small, csm=bob.pk))
    assert response.status_code == 200
    assert "Only CS Leadership can move an account" in response.content.decode()
    small.refresh_from_db()
    assert small.csm.username == "alice"


# --- the approvals page decides through the same service ------------------------------------------


def test_leadership_approves_a_tier_input_change_on_the_approvals_page(
    client, small, alice, lena, token_client, django_capture_on_commit_callbacks
):
    assert patch(token_client(alice), small, {"acv": "20000.00"}).status_code == 202
    proposal = AccountInputProposal.objects.get()
    client.force_login(lena)
    page = client.get(reverse("engagement:approvals")).content.decode()
    assert f'id="input-proposal-{proposal.pk}"' in page and "10000.00 → <strong>20000.00</strong>" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:input-proposal-decide", args=[proposal.pk]),
            {"decision": "approve", "note": "Signed amendment"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200 and "Approved" in response.content.decode()
    small.refresh_from_db()
    assert small.acv == Decimal("20000.00")
    assert TierChange.objects.get(status="proposed").to_code == "MM2"


def test_a_csm_cannot_decide_on_the_page(client, small, alice, token_client):
    patch(token_client(alice), small, {"acv": "20000.00"})
    proposal = AccountInputProposal.objects.get()
    client.force_login(alice)
    response = client.post(
        reverse("accounts:input-proposal-decide", args=[proposal.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    small.refresh_from_db()
    assert small.acv == Decimal("10000.00")
