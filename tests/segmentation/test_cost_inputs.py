"""The kept cost-to-serve inputs (a year's minutes and tickets per account) equal the live count
over the usage and touchpoint tables, the economics summary read from them equals the live one,
and they stay true when touchpoints and usage are written, changed or deleted by any path (the
ORM, a queryset update, a bulk insert) and when the window moves a day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, UsageSnapshot
from engagement.models import Touchpoint
from segmentation.economics import CostRates
from segmentation.models import AccountCostInputs, CostInputsWindow
from segmentation.queries import economics as economics_sql
from segmentation.services import economics as economics_services
from segmentation.services.cost_inputs import cost_inputs_bring_current
from tests.factories import AccountFactory, UsageSnapshotFactory, UserFactory

pytestmark = pytest.mark.django_db


def _at(today: dt.date, days_ago: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(10)))


def _touchpoint(account: Account, today: dt.date, days_ago: int, minutes: int) -> Touchpoint:
    return Touchpoint.objects.create(
        account=account, kind="call", occurred_at=_at(today, days_ago), minutes=minutes
    )


def _kept() -> dict[int, tuple[int, int]]:
    return {
        row.account_id: (row.minutes, row.tickets)
        for row in AccountCostInputs.objects.filter(current=True, minutes__gt=0)
        | AccountCostInputs.objects.filter(current=True, tickets__gt=0)
    }


def _live(today: dt.date) -> dict[int, tuple[int, int]]:
    """Each account's (minutes, tickets) over the window as the live query counts them."""
    live = {}
    for pk in Account.objects.values_list("id", flat=True):
        inputs = economics_sql.account_cost_inputs(account_id=pk, today=today)
        assert inputs is not None
        _, minutes, tickets, _ = inputs
        if minutes or tickets:
            live[pk] = (minutes, tickets)
    return live


def _summaries_agree(today: dt.date) -> None:
    rates = CostRates.from_settings()
    assert sorted(economics_sql.kept_costed_quadrant_totals(today=today, rates=rates)) == sorted(
        economics_sql.costed_quadrant_totals(today=today, rates=rates)
    )


@pytest.fixture
def book():
    """Accounts with usage and touchpoints inside the window, on its edge and before it."""
    today = timezone.localdate()
    user = UserFactory()
    accounts = [
        AccountFactory(acv=Decimal(acv), csm=user) for acv in ("9000", "64000", "180000", "30000", "500")
    ]
    busy, edge, quiet, usage_only, _untouched = accounts
    for week in range(6):
        UsageSnapshotFactory(
            account=busy, period_start=today - dt.timedelta(days=7 * week), support_tickets=week
        )
    UsageSnapshotFactory(account=busy, period_start=today - dt.timedelta(days=400), support_tickets=50)
    UsageSnapshotFactory(account=edge, period_start=today - dt.timedelta(days=365), support_tickets=4)
    UsageSnapshotFactory(account=edge, period_start=today - dt.timedelta(days=366), support_tickets=9)
    UsageSnapshotFactory(account=usage_only, period_start=today - dt.timedelta(days=30), support_tickets=0)
    _touchpoint(busy, today, 3, 45)
    _touchpoint(busy, today, 200, 30)
    _touchpoint(busy, today, 500, 90)
    _touchpoint(edge, today, 364, 20)
    _touchpoint(quiet, today, 10, 15)
    return today, accounts


def test_kept_inputs_and_summary_equal_the_live_count(book):
    today, accounts = book
    assert cost_inputs_bring_current(today=today) == 4  # every account with minutes or usage in the window
    assert _kept() == _live(today)
    assert _kept()[accounts[0].pk] == (75, sum(range(6)))
    _summaries_agree(today)
    totals = economics_services.quadrant_totals(today)
    assert sum(n for _, n, _, _ in totals) == Account.objects.count()


def test_writes_by_any_path_mark_the_account_and_are_counted_before_a_read(book):
    today, (busy, edge, quiet, usage_only, untouched) = book
    cost_inputs_bring_current(today=today)

    def recounted(marked: set[int]) -> None:
        stale = set(AccountCostInputs.objects.filter(current=False).values_list("account_id", flat=True))
        assert stale == marked
        assert cost_inputs_bring_current(today=today) == len(marked)
        assert _kept() == _live(today)
        _summaries_agree(today)

    added = _touchpoint(untouched, today, 1, 25)  # an account without inputs until now
    recounted({untouched.pk})
    Touchpoint.objects.filter(pk=added.pk).update(minutes=55)
    recounted({untouched.pk})
    Touchpoint.objects.filter(pk=added.pk).update(account=quiet)  # both accounts move
    recounted({untouched.pk, quiet.pk})
    Touchpoint.objects.filter(account=quiet).delete()
    recounted({quiet.pk})
    assert not AccountCostInputs.objects.filter(account_id=quiet.pk).exists()

    Touchpoint.objects.bulk_create(
        [Touchpoint(account=edge, kind="meeting", occurred_at=_at(today, d), minutes=10) for d in (2, 3)]
    )
    recounted({edge.pk})
    UsageSnapshotFactory(account=usage_only, period_start=today, support_tickets=7)
    recounted({usage_only.pk})
    UsageSnapshot.objects.filter(account=busy).update(support_tickets=2)
    recounted({busy.pk})
    UsageSnapshot.objects.filter(account=edge, period_start=today - dt.timedelta(days=365)).delete()
    recounted({edge.pk})


def test_a_moved_window_counts_every_account_again(book):
    today, (_busy, edge, *_rest) = book
    cost_inputs_bring_current(today=today)
    later = today + dt.timedelta(days=1)
    # Nothing was written, yet the edge account's tickets left the window.
    assert cost_inputs_bring_current(today=later) == AccountCostInputs.objects.count() == 4
    assert CostInputsWindow.objects.get().window_start == later - dt.timedelta(days=365)
    assert _kept() == _live(later)
    assert _kept()[edge.pk] == (20, 0)
    _summaries_agree(later)


def test_an_account_deleted_with_its_usage_leaves_nothing_counted(book):
    today, (busy, *_rest) = book
    cost_inputs_bring_current(today=today)
    busy.delete()  # its usage and touchpoints go first: the triggers mark a row being deleted
    cost_inputs_bring_current(today=today)
    assert not AccountCostInputs.objects.filter(account_id=busy.pk).exists()
    assert _kept() == _live(today)
    _summaries_agree(today)
