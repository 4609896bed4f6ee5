"""The coverage summary (``CoverageSummary``) agrees with the live grouping of the coverage rows
(``coverage_share``) on generated books, on the day of the recompute and on later days, and stays
so as deliveries are logged, accounts change CSM, tier or lifecycle, and the nightly job runs."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from accounts.models import Account
from accounts.services.accounts import account_update
from csplatform import roles
from engagement.coverage.queries import coverage_summary_rebuild
from engagement.coverage.selectors import (
    _most_overdue,
    _share,
    _summary_rows,
    coverage_panel_shares,
    coverage_share,
    coverage_shares_from_summary,
)
from engagement.coverage.services import coverage_recompute, module_delivery_record
from engagement.models import (
    CoverageSummary,
    CoverageSummaryBase,
    CoverageSummaryDimension,
    EntitlementCoverage,
)
from tests.engagement.factories import TIER_NAMES, tiered_account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODULES = ("qbr", "catch_up", "webinars", "ebr")
LATER_DAYS = (0, 1, 9, 31, 95, 400)


def assert_summary_agrees(today: dt.date) -> None:
    summary = coverage_shares_from_summary(today=today)
    assert summary is not None
    for group in ("tier", "csm"):
        live = {share.key: share for share in coverage_share(group_by=group, today=today)}
        kept = {share.key: share for share in summary[group]}
        assert kept == live, f"{group} on {today}"
        assert [s.key for s in summary[group]] == sorted(kept, key=lambda k: (k == "", k))
    # The panel's bounded CSM table, from the summary, shows what the live figures rank first
    # (equal figures may come in another order: ids break ties there, usernames here).
    live_csms = coverage_share(group_by="csm", today=today)
    panel = coverage_panel_shares(today=today, csms_shown=2)
    assert panel.by_tier == summary["tier"]
    assert (panel.csms, panel.csms_overdue) == (
        len(live_csms),
        sum(1 for s in live_csms if s.overdue_accounts),
    )
    figures = sorted((-s.overdue_accounts, s.share if s.share is not None else 2) for s in live_csms)
    assert [(-s.overdue_accounts, s.share if s.share is not None else 2) for s in panel.by_csm] == figures[:2]
    by_username = {s.key: s for s in live_csms}
    assert all(by_username[s.key] == s for s in panel.by_csm)


def generated_book(seed: int, csms: list) -> list:
    """Accounts of every tier, some without a CSM, with deliveries spread over the last year."""
    rng = random.Random(seed)
    accounts = []
    for _ in range(rng.randint(6, 14)):
        tier = rng.choice(sorted(TIER_NAMES))
        tiered_on = dt.date(2026, 11, 22) - dt.timedelta(days=rng.randint(0, 500))
        accounts.append(tiered_account(tier, csm=rng.choice([*csms, None]), tiered_on=tiered_on))
    source_id = seed * 1000
    for account in accounts:
        for _ in range(rng.randint(0, 5)):
            source_id += 1
            day = dt.datetime(2026, 11, 22, 10, tzinfo=dt.UTC) - dt.timedelta(days=rng.randint(0, 365))
            module_delivery_record(
                account_id=account.pk,
                module_code=rng.choice(MODULES),
                delivered_at=day,
                source="manual",
                source_id=source_id,
            )
    return accounts


@pytest.fixture
def csms(alice, bob):
    return [alice, bob, UserFactory(username="carol", role=roles.CSM)]


@pytest.mark.parametrize("seed", range(6))
def test_the_summary_equals_the_live_grouping_on_generated_books(seed, csms, frozen_now) -> None:
    generated_book(seed, csms)  # each delivery rewrote its account's coverage (and the summary)
    today = frozen_now.date()
    for days in LATER_DAYS:
        assert_summary_agrees(today + dt.timedelta(days=days))
    coverage_recompute()  # the nightly job over every account
    for days in LATER_DAYS:
        assert_summary_agrees(today + dt.timedelta(days=days))
    # A recompute as of a later day moves every figure; the summary follows.
    coverage_recompute(today=today + dt.timedelta(days=3))
    assert_summary_agrees(today + dt.timedelta(days=3))
    assert_summary_agrees(today + dt.timedelta(days=40))


def test_rebuilding_the_summary_from_the_rows_gives_what_the_rewrites_kept(csms, frozen_now) -> None:
    generated_book(11, csms)
    coverage_recompute()

    kept = summary_rows()
    coverage_summary_rebuild(base_on=frozen_now.date())
    rebuilt = summary_rows()
    assert rebuilt == kept
    assert rebuilt, "the generated book owes recurring service"


def summary_rows() -> set[tuple]:
    return set(
        CoverageSummary.objects.values_list(
            "dimension", "key", "due_on", "entitlements", "accounts", "planned", "delivered_on_time"
        )
    )


def stored_rows() -> dict[tuple[int, int], tuple]:
    return {
        (row.account_id, row.module_id): (row.next_due_on, row.delivered_in_window, row.planned_in_window)
        for row in EntitlementCoverage.objects.all()
    }


def test_next_day_rewrites_that_change_rows_keep_the_summary_equal_to_a_recount(csms, frozen_now) -> None:
    accounts = generated_book(17, csms)
    # Tiered within the window: its first catch-up (every 30 days) falls due tomorrow.
    accounts.append(tiered_account("MM1", csm=csms[0], tiered_on=frozen_now.date() - dt.timedelta(days=29)))
    coverage_recompute()
    today = frozen_now.date()
    recurring = [a for a in accounts if a.tier_code != "MM3"]
    churning, retiering, moving = recurring[0], recurring[1], recurring[2]
    # Changed behind the signals: only the nightly rewrite notices (a delete, new rows, a move).
    events = {
        2: lambda: Account.objects.filter(pk=churning.pk).update(lifecycle_stage="churned"),
        9: lambda: Account.objects.filter(pk=retiering.pk).update(
            tier_code="ENT", tier_name="Enterprise", tier_rank=1
        ),
        31: lambda: Account.objects.filter(pk=moving.pk).update(
            csm=csms[2] if moving.csm_id != csms[2].pk else None
        ),
    }
    for days in (1, 2, 9, 31, 95):
        day = today + dt.timedelta(days=days)
        if days in events:
            events[days]()
        before = stored_rows()
        coverage_recompute(today=day)
        assert stored_rows() != before, f"the rewrite as of {day} changed rows"
        assert_summary_agrees(day)
        kept = summary_rows()
        coverage_summary_rebuild(base_on=CoverageSummaryBase.objects.get().base_on)
        assert summary_rows() == kept, f"the summary kept as of {day} is the recount of the rows"
    assert not EntitlementCoverage.objects.filter(account=churning).exists()


def test_the_base_day_folds_past_due_days_and_never_moves_back(csms, frozen_now) -> None:
    generated_book(5, csms)
    today = frozen_now.date()
    assert CoverageSummaryBase.objects.get().base_on == today
    assert not CoverageSummary.objects.filter(due_on__lt=today).exists()
    # A recompute as of a past day does not move the base back.
    coverage_recompute(today=today - dt.timedelta(days=10))
    assert CoverageSummaryBase.objects.get().base_on == today
    assert_summary_agrees(today)
    # Before the base day the summary cannot tell what was overdue: the panel reads live.
    assert coverage_shares_from_summary(today=today - dt.timedelta(days=1)) is None


def test_the_summary_follows_a_new_csm_a_churn_a_tier_change_and_a_delivery(
    csms, frozen_now, django_capture_on_commit_callbacks
) -> None:
    alice = csms[0]
    accounts = generated_book(3, csms)
    today = frozen_now.date()
    owned = next(a for a in accounts if a.csm_id == alice.pk and a.tier_code != "MM3")
    with django_capture_on_commit_callbacks(execute=True):
        account_update(account=owned, actor=None, source="manual", data={"csm": "bob"})
    assert_summary_agrees(today)
    assert_summary_agrees(today + dt.timedelta(days=20))

    churning = next(a for a in accounts if a.pk != owned.pk and a.tier_code != "MM3")
    with django_capture_on_commit_callbacks(execute=True):
        account_update(account=churning, actor=None, source="manual", data={"lifecycle_stage": "churned"})
    assert_summary_agrees(today)
    with django_capture_on_commit_callbacks(execute=True):
        account_update(account=churning, actor=None, source="manual", data={"lifecycle_stage": "adopting"})
    assert_summary_agrees(today)

    # A tier change recomputes the account's coverage as its playbooks run.
    type(owned).objects.filter(pk=owned.pk).update(tier_code="ENT", tier_name="Enterprise", tier_rank=1)
    coverage_recompute(account_ids=[owned.pk])
    assert_summary_agrees(today)

    module_delivery_record(
        account_id=owned.pk,
        module_code="qbr",
        delivered_at=frozen_now - dt.timedelta(hours=1),
        source="manual",
        source_id=777_001,
    )
    assert_summary_agrees(today)
    assert_summary_agrees(today + dt.timedelta(days=100))


def _panel(client) -> tuple[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/overview/coverage/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode(), len(captured.captured_queries)


def test_the_panel_reads_the_summary_in_as_many_queries_for_any_book_and_its_links_open_as_many(
    csms, lena, client, frozen_now
) -> None:
    import re

    client.force_login(lena)
    generated_book(21, csms)
    _, small = _panel(client)
    for seed in (22, 23, 24):
        generated_book(seed, csms)
    html, large = _panel(client)
    assert large == small, "the coverage panel's queries do not depend on the size of the book"
    links = re.findall(r'<a href="(/overview/coverage/overdue/\?[^"]+)" data-drilldown>([\d,]+)</a>', html)
    assert links, "the generated books have overdue accounts"
    for url, shown in links:
        page = client.get(url.replace("&amp;", "&")).content.decode()
        total = re.search(r'data-total="(\d+)"', page)
        assert total is not None and int(total.group(1)) == int(shown.replace(",", "")), url


def test_a_large_team_shows_the_csms_with_the_most_accounts_overdue_and_counts_the_rest(
    lena, client, frozen_now, django_assert_max_num_queries
) -> None:
    """Thousands of CSMs made thousands of table rows (1.5 s a panel at 8,000): the panel names
    the 25 with the most accounts overdue, and says how many there are."""
    today = frozen_now.date()
    past, future = today - dt.timedelta(days=3), today + dt.timedelta(days=20)

    def team_of(size: int, start: int) -> None:
        for number in range(start, start + size):
            csm = UserFactory(username=f"team{number:02d}", role=roles.CSM)
            # CSM n has n accounts overdue (none for the first), and ten on time; as the rewrites
            # keep it, the planned deliveries in the NULL bucket.
            CoverageSummary.objects.create(
                dimension="csm", key=str(csm.pk), due_on=None, planned=number + 10, delivered_on_time=0
            )
            for due_on, accounts in ((past, number), (future, 10)):
                if accounts:
                    CoverageSummary.objects.create(
                        dimension="csm",
                        key=str(csm.pk),
                        due_on=due_on,
                        entitlements=accounts,
                        accounts=accounts,
                        planned=0,
                        delivered_on_time=0,
                    )

    client.force_login(lena)
    team_of(5, 0)
    with django_assert_max_num_queries(20) as small:
        client.get("/overview/coverage/", headers={"HX-Request": "true"})
    team_of(35, 5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get("/overview/coverage/", headers={"HX-Request": "true"}).content.decode()
    assert "39 of 40 CSMs with accounts overdue; the 25 with the most shown." in html
    table = html[html.index("<caption>By CSM</caption>") :]
    assert table.count('<tr><th scope="row">') == 25
    # Most overdue first; the 15 with the fewest are left out.
    assert table.index("Team39 Example") < table.index("Team38 Example") < table.index("Team15 Example")
    assert "Team14 Example" not in table and "Team00 Example" not in table
    assert '?csm=team39" data-drilldown>39</a>' in table


@pytest.mark.parametrize("seed", range(4))
def test_the_panel_ranks_the_csms_in_the_database_as_the_python_rule_ranks_them(seed, frozen_now) -> None:
    # Usernames in the reverse order of the ids, so a ranking by name would show.
    team = [UserFactory(username=f"csm-{9 - n}", role=roles.CSM) for n in range(9)]
    generated_book(seed, team)
    generated_book(seed + 100, team[:3])  # some CSMs with much more overdue than others
    today = frozen_now.date()
    for days in (0, 9, 31, 95):
        day = today + dt.timedelta(days=days)
        rows = _summary_rows(today=day)
        assert rows is not None
        folded = [_share(r, r["key"]) for r in rows if r["dimension"] == CoverageSummaryDimension.CSM]
        names = {str(user.pk): user.username for user in team}
        for shown in range(1, len(folded) + 2):
            expected = [
                (names.get(s.key, ""), s.planned, s.delivered_on_time, s.overdue, s.overdue_accounts)
                for s in _most_overdue(folded, shown)
            ]
            panel = coverage_panel_shares(today=day, csms_shown=shown)
            assert [
                (s.key, s.planned, s.delivered_on_time, s.overdue, s.overdue_accounts) for s in panel.by_csm
            ] == expected, f"{shown} shown on {day}"
            overdue = sum(1 for s in folded if s.overdue_accounts)
            assert (panel.csms, panel.csms_overdue) == (len(folded), overdue)
        assert len({s.overdue_accounts for s in folded}) > 1, "the book ranks CSMs apart"
