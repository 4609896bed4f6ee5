"""Every page and fragment checks role and object: CSM own accounts only (others 404), leadership
pages 403 for CSMs and AEs, AEs their own handoffs, anonymous to the login page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from segmentation.models import TierPolicy
from tests.factories import AccountFactory
from tests.security.html_checks import inline_script_problems

pytestmark = pytest.mark.django_db

LEADER_PAGES = [
    "/overview/",
    "/approvals/",
    "/policies/",
    "/policies/{policy}/",
    "/policies/{policy}/entitlements/",
    "/reviews/",
    "/overview/tier-distribution/",
    "/overview/migrations/",
    "/overview/overrides/",
    "/overview/economics/",
    "/overview/economics/scatter/",
    "/overview/coverage/",
    "/overview/commitments/",
    "/overview/capacity/",
    "/overview/overrides/at_risk/accounts/",
    "/overview/quadrants/high_revenue_low_cost/accounts/",
]
ACCOUNT_PAGES = [
    "/accounts/{account}/",
    "/accounts/{account}/tier/",
    "/accounts/{account}/override/",
    "/accounts/{account}/coverage/",
    "/accounts/{account}/tasks/",
    "/accounts/{account}/commitments/",
    "/accounts/{account}/timeline/",
    "/accounts/{account}/touchpoints/new/",
]


@pytest.fixture
def world(alice, bob, tom, tina, lena):
    policy = TierPolicy.objects.get(status="active")
    mine = AccountFactory(
        csm=alice, ae=tom, acv=Decimal("80000"), tier_code="ENT", tier_name="Enterprise", tier_rank=1
    )
    theirs = AccountFactory(
        csm=bob, ae=tina, acv=Decimal("20000"), tier_code="MM2", tier_name="Mid-Market 2", tier_rank=3
    )
    return {"policy": policy.pk, "mine": mine.pk, "theirs": theirs.pk}


def _url(template, world, account_key="mine"):
    return template.format(policy=world["policy"], account=world[account_key])


@pytest.mark.parametrize(
    "page", LEADER_PAGES + ACCOUNT_PAGES + ["/", "/accounts/", "/handoffs/", "/worklist/"]
)
def test_anonymous_goes_to_login_with_next(client, world, page):
    url = _url(page, world)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("page", LEADER_PAGES)
def test_leader_pages_open_for_leadership_without_inline_script(lena, signed_in, world, page):
    response = signed_in(lena).get(_url(page, world))
    assert response.status_code == 200
    assert inline_script_problems(response.content.decode()) == []


@pytest.mark.parametrize("page", LEADER_PAGES)
def test_csm_and_ae_cannot_open_leadership_pages(alice, tom, signed_in, world, page):
    assert signed_in(alice).get(_url(page, world)).status_code == 403
    assert signed_in(tom).get(_url(page, world)).status_code == 403


@pytest.mark.parametrize("page", ACCOUNT_PAGES)
def test_csm_opens_own_account_pages_but_not_others(alice, signed_in, world, page):
    client = signed_in(alice)
    own = client.get(_url(page, world))
    assert own.status_code == 200
    assert inline_script_problems(own.content.decode()) == []
    assert client.get(_url(page, world, "theirs")).status_code == 404


@pytest.mark.parametrize("page", ACCOUNT_PAGES)
def test_leader_opens_every_account(lena, signed_in, world, page):
    client = signed_in(lena)
    assert client.get(_url(page, world)).status_code == 200
    assert client.get(_url(page, world, "theirs")).status_code == 200


@pytest.mark.parametrize(
    "page", ["/accounts/{account}/", "/accounts/{account}/timeline/", "/handoffs/{account}/"]
)
def test_ae_sees_own_account_not_another_aes(tom, signed_in, world, page):
    client = signed_in(tom)
    assert client.get(_url(page, world)).status_code == 200
    assert client.get(_url(page, world, "theirs")).status_code == 404


def test_csm_cannot_post_to_leadership_actions(alice, signed_in, world):
    client = signed_in(alice)
    assert client.post("/policies/new/").status_code == 403
    assert client.post(f"/policies/{world['policy']}/activate/").status_code == 403
    assert client.post(f"/policies/{world['policy']}/simulate/").status_code == 403
    assert client.post("/reviews/start/").status_code == 403
    assert client.post("/overrides/1/decide/", {"decision": "approve"}).status_code == 403
    assert client.post("/commitments/1/decide/", {"decision": "approve"}).status_code == 403
    assert client.post("/add-ons/1/decide/", {"decision": "approve"}).status_code == 403


def test_each_role_lands_on_its_home(alice, tom, lena, signed_in, world):
    assert "worklist" in signed_in(alice).get("/").content.decode().lower()
    assert "My handoffs" in signed_in(tom).get("/").content.decode()
    assert "Leadership overview" in signed_in(lena).get("/").content.decode()


def test_expired_session_on_an_htmx_fragment_redirects_to_login_and_back(client, world):
    response = client.get(
        "/overview/capacity/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/overview/"},
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/login/?next=%2Foverview%2F&expired=1"
