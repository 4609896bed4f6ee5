"""The kept cost-to-serve inputs (a year's minutes and tickets per account) equal the live count
over the usage and touchpoint tables, the economics summary read from them equals the live one,
and they stay true when touchpoints and usage are written, changed or deleted by any path (the
ORM, a queryset update, a bulk insert), when the window moves a day, and when usage is written
while the inputs are counted. Usage writes keep the tickets as they happen: they leave nothing
to count before a read."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, UsageSnapshot
from engagement.models import Touchpoint
from segmentation.economics import cost_window_start
from segmentation.models import AccountCostInputs, CostInputsWindow
from segmentation.queries import cost_inputs as cost_inputs_sql
from segmentation.queries import economics as economics_sql
from segmentation.services import economics as economics_services
from segmentation.services.cost_inputs import cost_inputs_bring_current
from tests.factories import AccountFactory, UsageSnapshotFactory, UserFactory
from tests.sessions import Session

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


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
    """The book's quadrant totals (read from the kept inputs) equal those of every account's live
    cost by the Python rule. Accounts whose inputs are zero cost nothing wherever they are counted
    (a kept row of zeros, or none), so the totals, not the costed parts, are compared."""
    expected: dict[str, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for pk in Account.objects.values_list("id", flat=True):
        one = economics_services.account_cost_to_serve(account_id=pk, today=today)
        quadrant = expected[one["quadrant"]]
        quadrant[0] += 1
        quadrant[1] += one["acv"]
        quadrant[2] += one["cost_to_serve"]
    totals = {q: (n, acv, cost) for q, n, acv, cost in economics_services.quadrant_totals(today)}
    assert set(totals) == set(expected)
    for quadrant, (n, acv, cost) in expected.items():
        assert totals[quadrant][:2] == (n, acv)
        assert abs(totals[quadrant][2] - cost) <= CENT * n  # each account's cost rounded apart


def _stale() -> set[int]:
    return set(AccountCostInputs.objects.filter(current=False).values_list("account_id", flat=True))


def _kept_by_deltas(today: dt.date) -> None:
    """A usage write left nothing to count, and the kept tickets are the live ones."""
    assert _stale() == set()
    assert cost_inputs_bring_current(today=today) == 0
    assert _kept() == _live(today)


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


@pytest.fixture(params=["ids", "joined"])
def marked_form(request, monkeypatch):
    """How marked accounts are counted: by their ids, or joined as rows (past STALE_AS_ARRAY_MAX);
    returns what the count's statement says in that form."""
    if request.param == "joined":
        monkeypatch.setattr(cost_inputs_sql, "STALE_AS_ARRAY_MAX", 0)
        return "AND NOT s.current"
    return "ANY("


def test_touchpoint_writes_by_any_path_mark_the_account_and_are_counted_before_a_read(book, marked_form):
    today, (busy, edge, quiet, _usage_only, untouched) = book
    cost_inputs_bring_current(today=today)

    def recounted(marked: set[int]) -> None:
        assert _stale() == marked
        with CaptureQueriesContext(connection) as statements:
            assert cost_inputs_bring_current(today=today) == len(marked)
        assert any(marked_form in q["sql"] and "INSERT INTO" in q["sql"] for q in statements.captured_queries)
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
    # A row marked by a touchpoint and then moved by a usage write is counted in full.
    _touchpoint(busy, today, 2, 5)
    UsageSnapshot.objects.filter(account=busy).update(support_tickets=3)
    recounted({busy.pk})


def test_usage_writes_by_any_path_keep_the_tickets_and_leave_nothing_to_count(book):
    today, (busy, edge, quiet, usage_only, untouched) = book
    cost_inputs_bring_current(today=today)
    week = dt.timedelta(days=7)

    UsageSnapshotFactory(account=usage_only, period_start=today, support_tickets=7)  # ORM insert
    _kept_by_deltas(today)
    assert _kept()[usage_only.pk] == (0, 7)
    UsageSnapshot.objects.bulk_create(  # one statement, two accounts, one of them without a row
        [
            UsageSnapshot(account=untouched, period_start=today - week, support_tickets=3),
            UsageSnapshot(account=quiet, period_start=today - week, support_tickets=2),
        ]
    )
    _kept_by_deltas(today)
    assert _kept()[untouched.pk] == (0, 3)
    assert _kept()[quiet.pk] == (15, 2)

    UsageSnapshot.objects.filter(account=busy).update(support_tickets=F("support_tickets") + 2)
    _kept_by_deltas(today)
    assert _kept()[busy.pk] == (75, sum(range(6)) + 6 * 2)  # the row before the window adds nothing

    # Periods moved out of the window and into it, by one statement over several accounts.
    out = UsageSnapshot.objects.filter(account=untouched).update(period_start=today - dt.timedelta(days=366))
    assert out == 1
    back = UsageSnapshot.objects.filter(account=edge, period_start=today - dt.timedelta(days=366))
    assert back.update(period_start=today - dt.timedelta(days=300)) == 1
    _kept_by_deltas(today)
    assert _kept()[edge.pk] == (20, 4 + 9)
    assert untouched.pk not in _kept()

    # Rows moved to another account, one with a row and one without (the period moves too).
    UsageSnapshot.objects.filter(account=usage_only, period_start=today).update(account=quiet)
    UsageSnapshot.objects.filter(account=untouched).update(account=busy, period_start=today - week * 10)
    _kept_by_deltas(today)
    assert _kept()[quiet.pk] == (15, 2 + 7)
    assert usage_only.pk not in _kept()  # its row went to zero (a usage row of no tickets is left)

    # Rows before the window: written, changed and deleted without changing the kept tickets.
    before = dict(AccountCostInputs.objects.values_list("account_id", "tickets"))
    UsageSnapshotFactory(account=quiet, period_start=today - dt.timedelta(days=500), support_tickets=40)
    UsageSnapshot.objects.filter(period_start__lt=cost_window_start(today)).update(support_tickets=11)
    UsageSnapshot.objects.filter(account=busy, period_start__lt=cost_window_start(today)).delete()
    assert dict(AccountCostInputs.objects.values_list("account_id", "tickets")) == before
    _kept_by_deltas(today)

    # A write that changes no ticket in the window writes no kept row.
    newcomer = AccountFactory()
    UsageSnapshotFactory(account=newcomer, period_start=today, support_tickets=0)
    UsageSnapshot.objects.filter(account=busy).update(active_users=F("active_users") + 1)
    assert dict(AccountCostInputs.objects.values_list("account_id", "tickets")) == before
    assert not AccountCostInputs.objects.filter(account_id=newcomer.pk).exists()

    UsageSnapshot.objects.filter(account=edge, period_start=today - dt.timedelta(days=365)).delete()
    UsageSnapshot.objects.filter(account__in=[busy, quiet]).delete()
    _kept_by_deltas(today)
    assert _kept()[edge.pk] == (20, 9)
    assert _kept()[busy.pk] == (75, 0)
    _summaries_agree(today)


@pytest.mark.parametrize("window_start", ["no window", None])
def test_usage_written_before_the_first_count_is_left_to_it(book, window_start):
    today, (busy, *_rest) = book
    if window_start is None:
        CostInputsWindow.objects.create(pk=1, window_start=None)
    UsageSnapshotFactory(account=busy, period_start=today + dt.timedelta(days=1), support_tickets=5)
    UsageSnapshot.objects.filter(account=busy).update(support_tickets=F("support_tickets") + 1)
    # Nothing added to figures that were never counted; the first count covers every row.
    assert not AccountCostInputs.objects.exclude(minutes=0, tickets=0).exists()
    assert cost_inputs_bring_current(today=today) == 4
    assert _kept() == _live(today)
    assert _kept()[busy.pk] == (75, sum(range(6)) + 5 + 7)
    _summaries_agree(today)


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
    today, (busy, _edge, _quiet, usage_only, _untouched) = book
    UsageSnapshotFactory(account=usage_only, period_start=today, support_tickets=6)
    cost_inputs_bring_current(today=today)
    # Their usage and touchpoints go first: the touchpoint triggers mark the row of an account
    # being deleted, the usage triggers take its tickets off.
    busy_id, usage_only_id = busy.pk, usage_only.pk
    busy.delete()
    usage_only.delete()
    assert _stale() == {busy_id}
    cost_inputs_bring_current(today=today)
    assert not AccountCostInputs.objects.filter(account_id=busy_id).exists()
    # A row of zeros until the next full count, joined with no account meanwhile.
    assert AccountCostInputs.objects.filter(account_id=usage_only_id, tickets=0, minutes=0).exists()
    assert _kept() == _live(today)
    _summaries_agree(today)
    cost_inputs_bring_current(today=today + dt.timedelta(days=1))
    assert not AccountCostInputs.objects.filter(account_id=usage_only_id).exists()


# --- usage written while the inputs are counted (two connections) ----------------------------


def _someone_waits_for_the_kept_table() -> None:
    """Return once another session waits for a lock on the kept table (fail after 20 s)."""
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND relation = %s::regclass)",
                [AccountCostInputs._meta.db_table],
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no session waited for the kept table")


def _usage_across_the_window_edge(today: dt.date, usage_only: Account, untouched: Account) -> None:
    """One statement: a row on the first day of today's window (out of tomorrow's) and one today."""
    UsageSnapshot.objects.bulk_create(
        [
            UsageSnapshot(account=usage_only, period_start=cost_window_start(today), support_tickets=5),
            UsageSnapshot(account=untouched, period_start=today, support_tickets=7),
        ]
    )


concurrent = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@concurrent
@pytest.mark.parametrize("moved", [True, False], ids=["window moved", "same window"])
def test_usage_written_during_a_count_waits_for_it_and_adds_to_its_figures(book, monkeypatch, moved):
    today, (_busy, edge, quiet, usage_only, untouched) = book
    cost_inputs_bring_current(today=today)
    _touchpoint(quiet, today, 1, 10)  # a row the count of the same window counts again
    day = today + dt.timedelta(days=1) if moved else today
    count_name = "cost_inputs_count_all" if moved else "cost_inputs_count_stale"
    count = getattr(cost_inputs_sql, count_name)
    counted = threading.Event()

    def count_then_hold(*, since: dt.date) -> int:
        # Counted and holding the lock, uncommitted: the writer's statement must wait.
        n = count(since=since)
        counted.set()
        _someone_waits_for_the_kept_table()
        return n

    monkeypatch.setattr(cost_inputs_sql, count_name, count_then_hold)
    counting = Session(lambda: cost_inputs_bring_current(today=day))
    counting.start()
    assert counted.wait(20)
    _usage_across_the_window_edge(today, usage_only, untouched)  # returns once the count committed
    counting.finish()
    monkeypatch.undo()

    # The waiting statement read the window the count committed and added to its figures: the
    # row on the old window's first day adds nothing once the window moved.
    assert CostInputsWindow.objects.get().window_start == cost_window_start(day)
    _kept_by_deltas(day)
    assert _kept()[edge.pk] == (20, 0 if moved else 4)
    assert _kept().get(usage_only.pk) == (None if moved else (0, 5))
    assert _kept()[untouched.pk] == (0, 7)
    _summaries_agree(day)


@concurrent
@pytest.mark.parametrize("moved", [True, False], ids=["window moved", "same window"])
def test_a_count_waits_for_usage_being_written_and_sees_it(book, moved):
    today, (_busy, edge, _quiet, usage_only, untouched) = book
    cost_inputs_bring_current(today=today)
    _touchpoint(edge, today, 1, 10)  # a row the count of the same window counts again
    day = today + dt.timedelta(days=1) if moved else today
    written = threading.Event()

    def write_then_hold() -> None:
        with transaction.atomic():
            _usage_across_the_window_edge(today, usage_only, untouched)
            written.set()
            _someone_waits_for_the_kept_table()  # the count, until this commits

    writing = Session(write_then_hold)
    writing.start()
    assert written.wait(20)
    cost_inputs_bring_current(today=day)  # returns once the writer committed
    writing.finish()

    _kept_by_deltas(day)
    assert _kept()[edge.pk] == (30, 0 if moved else 4)
    assert _kept().get(usage_only.pk) == (None if moved else (0, 5))
    assert _kept()[untouched.pk] == (0, 7)
    _summaries_agree(day)


# --- random sequences of usage writes ---------------------------------------------------------

# Days before today: inside the window, on its first day, just before it and long before.
DAYS_AGO = (0, 7, 120, 365, 366, 500)
ACCOUNTS = 3
tickets = st.integers(min_value=0, max_value=9)
usage_writes = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, ACCOUNTS - 1), st.sampled_from(DAYS_AGO), tickets),
    st.tuples(st.just("set"), st.integers(0, ACCOUNTS - 1), tickets),
    st.tuples(st.just("add_everywhere"), st.integers(-2, 3)),
    st.tuples(
        st.just("move_period"),
        st.integers(0, ACCOUNTS - 1),
        st.sampled_from(DAYS_AGO),
        st.sampled_from(DAYS_AGO),
    ),
    st.tuples(
        st.just("move_account"),
        st.integers(0, ACCOUNTS - 1),
        st.integers(0, ACCOUNTS - 1),
        st.sampled_from(DAYS_AGO),
    ),
    st.tuples(st.just("delete"), st.integers(0, ACCOUNTS - 1), st.sampled_from(DAYS_AGO)),
)


def _write(write: tuple, accounts: list[Account], today: dt.date) -> None:
    def day(days_ago: int) -> dt.date:
        return today - dt.timedelta(days=days_ago)

    usage = UsageSnapshot.objects
    match write:
        case ("insert", a, days_ago, n):
            row = UsageSnapshot(account=accounts[a], period_start=day(days_ago), support_tickets=n)
            usage.bulk_create([row], ignore_conflicts=True)
        case ("set", a, n):
            usage.filter(account=accounts[a]).update(support_tickets=n)
        case ("add_everywhere", n):
            usage.filter(support_tickets__gte=-n).update(support_tickets=F("support_tickets") + n)
        case ("move_period", a, old, new):
            if not usage.filter(account=accounts[a], period_start=day(new)).exists():
                usage.filter(account=accounts[a], period_start=day(old)).update(period_start=day(new))
        case ("move_account", a, b, days_ago):
            if not usage.filter(account=accounts[b], period_start=day(days_ago)).exists():
                usage.filter(account=accounts[a], period_start=day(days_ago)).update(account=accounts[b])
        case ("delete", a, days_ago):
            usage.filter(account=accounts[a], period_start=day(days_ago)).delete()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.lists(st.tuples(st.integers(0, ACCOUNTS - 1), st.sampled_from(DAYS_AGO), tickets), max_size=8),
    writes=st.lists(usage_writes, min_size=1, max_size=12),
)
def test_kept_tickets_after_any_usage_writes_equal_a_full_count(db, start, writes):
    today = timezone.localdate()
    with transaction.atomic():
        accounts = [AccountFactory() for _ in range(ACCOUNTS)]
        for a, days_ago, n in start:
            UsageSnapshot.objects.get_or_create(
                account=accounts[a],
                period_start=today - dt.timedelta(days=days_ago),
                defaults={"support_tickets": n},
            )
        cost_inputs_bring_current(today=today)
        for write in writes:
            _write(write, accounts, today)
        _kept_by_deltas(today)
        transaction.set_rollback(True)
