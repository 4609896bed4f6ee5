"""The kept tier book (accounts and ACV per tier of the active book, kept by database triggers)
equals a count over the accounts after every kind of write, and the distribution panel shows it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from accounts.models import Account
from accounts.selectors import active_book
from segmentation.models import TierBookDelta, TierReview
from segmentation.queries.book import tier_book_compact, tier_book_counts
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def recount() -> dict[tuple[str, str, int | None], tuple[int, Decimal]]:
    return {
        (r["tier_code"], r["tier_name"], r["tier_rank"]): (r["n"], r["acv"])
        for r in active_book()
        .values("tier_code", "tier_name", "tier_rank")
        .annotate(n=Count("pk"), acv=Sum("acv"))
    }


def kept() -> dict[tuple[str, str, int | None], tuple[int, Decimal]]:
    return {(code, name, rank): (n, acv) for code, name, rank, n, acv in tier_book_counts()}


def test_every_kind_of_account_write_keeps_the_book_equal_to_a_recount(
    integration_client, lena, client, django_capture_on_commit_callbacks
):
    accounts = [AccountFactory(acv=Decimal(acv)) for acv in ("80000", "60000", "20000", "5000")]
    assert kept() == recount() and sum(n for n, _ in kept().values()) == 4

    # A sync: one new account, one ACV moved, one account churned.
    body = {
        "crm_source": accounts[0].crm_source,
        "records": [
            {"external_id": "NEW-1", "name": "Fresh Co", "acv": "75000.00"},
            {"external_id": accounts[1].external_id, "name": accounts[1].name, "acv": "61000.00"},
            {"external_id": accounts[2].external_id, "name": accounts[2].name, "lifecycle_stage": "churned"},
        ],
    }
    result = integration_client.post("/api/v1/accounts/sync/", body, format="json").json()
    assert (result["created"], result["updated"], result["failed"]) == (1, 2, 0)
    assert kept() == recount()

    # A review moves tiers; then a raw bulk update and a delete.
    client.force_login(lena)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/reviews/start/").status_code == 302
    assert TierReview.objects.latest("id").status == "finished"
    assert kept() == recount()
    assert {code for code, _, _ in kept()} >= {"ENT"}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET acv = acv + 1000 WHERE acv < 10000")
    Account.objects.filter(pk=accounts[3].pk).delete()
    assert kept() == recount()

    # Folding keeps the figures and leaves one row per tier.
    rows_before = TierBookDelta.objects.count()
    remaining = tier_book_compact()
    assert kept() == recount()
    assert remaining == TierBookDelta.objects.count() == len(recount()) < rows_before


def test_the_distribution_panel_shows_the_kept_book_at_once(alice, lena, client):
    AccountFactory(csm=alice, acv=Decimal("80000"), tier_code="ENT", tier_name="Enterprise", tier_rank=1)
    client.force_login(lena)
    leader = client
    panel = leader.get("/overview/tier-distribution/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="tier-count-ENT">1<' in panel
    Account.objects.filter(tier_code="ENT").update(lifecycle_stage="churned")
    panel = leader.get("/overview/tier-distribution/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="tier-count-ENT"' not in panel
