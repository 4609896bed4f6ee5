"""The capacity panel reads a per-CSM portfolio summary, kept when portfolios change and nightly."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.services.accounts import account_create, account_update
from engagement.capacity.selectors import csm_capacity, weekly_minutes_per_account
from engagement.capacity.services import csm_portfolio_refresh
from engagement.coverage.jobs import coverage_nightly
from engagement.models import CsmPortfolioLoad, CsmPortfolioSummary
from tests.engagement.factories import tiered_account
from tests.sessions import Session

pytestmark = pytest.mark.django_db


def _summary() -> dict[tuple[str, str], int]:
    return {
        (row.csm.username, row.tier_code): row.accounts
        for row in CsmPortfolioSummary.objects.select_related("csm")
    }


def test_the_refresh_counts_accounts_per_csm_and_tier_without_churned_ones(alice, bob) -> None:
    tiered_account("ENT", csm=alice)
    tiered_account("ENT", csm=alice)
    tiered_account("MM1", csm=alice)
    tiered_account("MM1", csm=alice, lifecycle_stage="churned")
    tiered_account("MM3", csm=bob)
    tiered_account("MM3")  # nobody's
    assert csm_portfolio_refresh() == 3
    assert _summary() == {("alice", "ENT"): 2, ("alice", "MM1"): 1, ("bob", "MM3"): 1}
    tiered_account("MM3", csm=alice)
    csm_portfolio_refresh(csm_ids=[alice.pk])
    assert _summary()[("alice", "MM3")] == 1 and _summary()[("bob", "MM3")] == 1


def test_capacity_from_the_summary_matches_the_live_count(alice, bob, frozen_now) -> None:
    for code in ("ENT", "ENT", "MM1", "MM2"):
        tiered_account(code, csm=alice)
    tiered_account("ENT", csm=bob)
    csm_portfolio_refresh()
    live = {c.csm.username: (c.accounts, c.entitlement_hours) for c in csm_capacity()}
    summary = {c.csm.username: (c.accounts, c.entitlement_hours) for c in csm_capacity(from_summary=True)}
    assert summary == live
    assert live["alice"][0] == 4 and live["alice"][1] > Decimal(0)


def test_a_new_or_reassigned_account_refreshes_the_summary(
    alice, bob, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        account = account_create(actor=None, source="test", external_id="x-1", name="New Co", csm=alice)
    account.refresh_from_db()
    assert account.tier_code  # tiered on creation, which refreshes the summary too
    assert _summary() == {("alice", account.tier_code): 1}
    with django_capture_on_commit_callbacks(execute=True):
        account_update(account=account, actor=None, source="test", data={"csm": bob})
    assert _summary() == {("bob", account.tier_code): 1}


def test_the_nightly_job_rebuilds_the_summary(alice, frozen_now) -> None:
    tiered_account("MM1", csm=alice)
    CsmPortfolioSummary.objects.create(csm=alice, tier_code="ENT", accounts=99, refreshed_at=frozen_now)
    coverage_nightly()
    assert _summary() == {("alice", "MM1"): 1}


def test_the_capacity_panel_reads_the_summary(alice, lena, client, frozen_now) -> None:
    for _ in range(3):
        tiered_account("ENT", csm=alice, renewal_date=dt.date(2027, 9, 1))
    client.force_login(lena)
    headers = {"HX-Request": "true"}
    stale = client.get("/overview/capacity/", headers=headers).content.decode()
    assert (
        f'?csm={alice.pk}&amp;lifecycle=active" data-drilldown>0</a>' in stale
    )  # not counted until the summary is refreshed
    csm_portfolio_refresh()
    html = client.get("/overview/capacity/", headers=headers).content.decode()
    assert f'?csm={alice.pk}&amp;lifecycle=active" data-drilldown>3</a>' in html


def test_a_large_team_shows_its_most_loaded_csms_and_counts_the_rest(lena, client) -> None:
    from csplatform import roles
    from tests.engagement.factories import TaskFactory
    from tests.factories import UserFactory

    csms = [UserFactory(username=f"csm{i:02d}", role=roles.CSM) for i in range(30)]
    # Two CSMs with more due work than their week holds, one of them far more.
    TaskFactory(assignee=csms[29], estimated_minutes=60 * 80)
    TaskFactory(assignee=csms[3], estimated_minutes=60 * 50)
    client.force_login(lena)
    html = client.get("/overview/capacity/", headers={"HX-Request": "true"}).content.decode()
    rows = html.count('<tr><th scope="row">')
    assert rows == 25
    assert "2 of 30 CSMs over capacity; the 25 most loaded shown." in html
    # Most loaded first, in the chart and in the table.
    assert html.index("Csm29 Example") < html.index("Csm03 Example") < html.index("Csm00 Example")


# --- two refreshes at once (two connections) ---------------------------------------------------


def _someone_waits() -> None:
    """Return once another session waits for a lock (fail after 20 s)."""
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # The activity view is read once per transaction unless its snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid())"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no session waited")


concurrent = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@concurrent
@pytest.mark.parametrize(
    "first, second",
    [([True], [True]), ([True], None), (None, [True]), (None, None)],
    ids=["csm and csm", "csm then everyone", "everyone then csm", "everyone and everyone"],
)
def test_two_refreshes_of_the_same_csm_at_once_both_succeed_and_the_later_wins(
    migration_data, alice, bob, first, second
):
    """The second refresh waits for the first and then sees its rows: it replaces them instead of
    failing on the summary's unique (CSM, tier) when it inserts its own."""
    tiered_account("ENT", csm=alice)
    tiered_account("MM1", csm=bob)
    csm_portfolio_refresh()

    def ids(which: list[bool] | None) -> list[int] | None:
        return None if which is None else [alice.pk]

    with transaction.atomic():
        csm_portfolio_refresh(csm_ids=ids(first))  # its rows are written, not yet committed
        second_refresh = Session(lambda: csm_portfolio_refresh(csm_ids=ids(second)))
        second_refresh.start()
        _someone_waits()
        # What the second one must count as well, committed with the first.
        tiered_account("ENT", csm=alice)
    second_refresh.finish()
    assert _summary() == {("alice", "ENT"): 2, ("bob", "MM1"): 1}
    per_tier, _ = weekly_minutes_per_account()
    assert {load.csm_id: load.weekly_minutes for load in CsmPortfolioLoad.objects.all()} == pytest.approx(
        {alice.pk: 2 * per_tier["ENT"], bob.pk: per_tier["MM1"]}
    )


@pytest.fixture
def refreshes(alice, bob, monkeypatch) -> list[list[int] | None]:
    """Four MM3 accounts the review moves to ENT, two per CSM, their summary current; returns the
    ``csm_ids`` of every portfolio refresh from then on (None: every CSM)."""
    from engagement.capacity import services as capacity_services
    from segmentation.services import reviews

    for csm in (alice, bob, alice, bob):
        tiered_account("MM3", csm=csm, acv=Decimal("80000"))
    csm_portfolio_refresh()
    assert _summary() == {("alice", "MM3"): 2, ("bob", "MM3"): 2}
    refreshed: list[list[int] | None] = []
    real_refresh = capacity_services.csm_portfolio_refresh

    def spy(*, csm_ids: list[int] | None = None) -> int:
        refreshed.append(csm_ids)
        return real_refresh(csm_ids=csm_ids)

    monkeypatch.setattr(capacity_services, "csm_portfolio_refresh", spy)
    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 1)  # four chunks, each committing its own change
    return refreshed


def test_a_review_refreshes_every_portfolio_once_when_it_finishes_not_per_batch(
    refreshes, django_capture_on_commit_callbacks
) -> None:
    from segmentation.services import reviews

    with django_capture_on_commit_callbacks(execute=True):
        review = reviews.tier_review_start()

    review.refresh_from_db()
    assert (review.status, review.changes_applied) == ("finished", 4)
    assert review.chunks.count() == 4
    assert refreshes == [None]  # every CSM, once
    assert _summary() == {("alice", "ENT"): 2, ("bob", "ENT"): 2}


def test_a_review_that_fails_still_refreshes_the_portfolios_its_committed_batches_changed(
    refreshes, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from segmentation.services import evaluation, reviews

    batches = 0
    real_batch = reviews.evaluate_batch

    def second_batch_fails(**kwargs: object) -> evaluation.BatchOutcome:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise RuntimeError("the database went away")
        return real_batch(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reviews, "evaluate_batch", second_batch_fails)
    with django_capture_on_commit_callbacks(execute=False):
        review = reviews.tier_review_start()  # its task is not run: this test runs it below
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        reviews.tier_review_run(review_id=review.pk)

    review.refresh_from_db()
    assert (review.status, review.changes_applied) == ("failed", 1)
    assert refreshes == [None]  # every CSM, once, without waiting for the next review
    assert sum(n for (_, code), n in _summary().items() if code == "ENT") == 1
