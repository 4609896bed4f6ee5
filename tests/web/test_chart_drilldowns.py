"""The overview's charts: every bar opens exactly the accounts it counts, the scatter carries the
quadrant summary's thresholds and links each point to its account, CSM charts read people's names."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Account
from csplatform import roles
from segmentation.models import TierOverride, TierReview
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _chart(body: str, script_id: str) -> dict:
    match = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', body, re.S)
    assert match, f"no chart {script_id}"
    return json.loads(match.group(1))


def _total(body: str) -> int:
    match = re.search(r'data-total="(\d+)"', body)
    assert match, "the page shows no total"
    return int(match.group(1))


@pytest.fixture
def reviewed_book(alice, bob, lena, signed_in, django_capture_on_commit_callbacks):
    AccountFactory.create_batch(3, csm=alice, acv=Decimal("80000"))
    AccountFactory.create_batch(2, csm=bob, acv=Decimal("9000"))
    AccountFactory.create_batch(4, csm=bob, acv=Decimal("30000"))
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_in(lena).post("/reviews/start/").status_code == 302
    assert TierReview.objects.filter(status="finished").exists()


def test_each_bar_of_the_tier_distribution_opens_as_many_accounts_as_it_counts(
    reviewed_book, lena, signed_in
):
    client = signed_in(lena)
    chart = _chart(
        client.get("/overview/tier-distribution/", headers=HTMX).content.decode(), "chart-distribution"
    )
    counts = chart["datasets"][0]["data"]
    assert len(chart["links"]) == len(counts) == len(chart["labels"]) and sum(counts) == 9
    for count, link in zip(counts, chart["links"], strict=True):
        page = client.get(link)
        assert page.status_code == 200 and "<html" in page.content.decode()
        assert _total(page.content.decode()) == count, link


def test_each_bar_of_the_overrides_chart_opens_its_overridden_accounts(reviewed_book, alice, lena, signed_in):
    client = signed_in(lena)
    for account in Account.objects.filter(csm=alice)[:2]:
        TierOverride.objects.create(
            account=account,
            tier_code="ENT",
            tier_name="Enterprise",
            tier_rank=1,
            reason="strategic_logo",
            note="Logo",
            expires_on=timezone.localdate() + dt.timedelta(days=30),
            status="active",
            requested_by=lena,
        )
    chart = _chart(client.get("/overview/overrides/", headers=HTMX).content.decode(), "chart-overrides")
    assert chart["datasets"][0]["data"] == [2]
    page = client.get(chart["links"][0]).content.decode()
    assert _total(page) == 2


def test_the_scatter_draws_the_quadrant_summarys_thresholds_and_links_each_point(
    reviewed_book, lena, signed_in
):
    chart = _chart(
        signed_in(lena).get("/overview/economics/scatter/", headers=HTMX).content.decode(), "chart-scatter"
    )
    assert chart["quadrants"]["x"] == float(settings.ECONOMICS_HIGH_REVENUE_ACV)
    assert chart["quadrants"]["y"] == float(settings.ECONOMICS_HIGH_COST_TO_SERVE)
    points = [p for ds in chart["datasets"] for p in ds["data"]]
    assert len(points) == 9
    assert all(p["url"] == f"/accounts/{p['id']}/" for p in points)


def test_csm_charts_and_tables_read_peoples_names(reviewed_book, lena, signed_in):
    named = UserFactory(username="pk1", first_name="Paula", last_name="Keller", role=roles.CSM)
    AccountFactory(csm=named, acv=Decimal("1000"))
    client = signed_in(lena)
    chart = _chart(client.get("/overview/capacity/", headers=HTMX).content.decode(), "chart-capacity")
    assert "Paula Keller" in chart["labels"] and "pk1" not in chart["labels"]
    paula = chart["links"][chart["labels"].index("Paula Keller")]
    assert paula == f"/accounts/?csm={named.pk}&lifecycle=active"
    assert _total(client.get(paula).content.decode()) == 1
