"""``make bench`` (``python -m bench``): a failing budget or a broken bench fails the command, and
``--only`` picks the modules to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from accounts.models import Account
from bench import __main__ as harness
from bench.common import BenchError, Result, portfolio_taken_back
from tests.factories import AccountFactory

ROOT = Path(__file__).resolve().parent.parent


def _module(name: str, run: Any, order: int = 1) -> Any:
    return SimpleNamespace(__name__=f"bench.{name}", ORDER=order, run=run)


def _passing(ctx: Any) -> list[Result]:
    return [Result("fast_thing", 1.0, "s", ratio=1.5, goal=3.0)]


def _failing(ctx: Any) -> list[Result]:
    return [Result("slow_thing", 9.0, "s", ratio=4.0, goal=3.0)]


def _too_slow_throughput(ctx: Any) -> list[Result]:
    return [Result("emails", 10.0, "emails/s", ratio=0.2, goal=0.5, higher_is_better=True)]


def _broken(ctx: Any) -> list[Result]:
    raise RuntimeError("the bench itself broke")


def _cannot_measure(ctx: Any) -> list[Result]:
    raise BenchError("missing_thing", "the service is not there")


@pytest.fixture
def without_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database setup of the real command is not what these tests are about."""
    monkeypatch.setattr(harness, "_setup", lambda: None)


@pytest.mark.parametrize(
    ("runs", "exit_code", "verdict"),
    [
        ([_passing], 0, "PASS"),
        ([_passing, _failing], 1, "FAIL"),
        ([_too_slow_throughput], 1, "FAIL"),
        ([_passing, _broken], 1, "ERROR"),
        ([_cannot_measure], 1, "ERROR"),
    ],
)
def test_exit_code_follows_the_budgets(
    without_setup: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    runs: list[Any],
    exit_code: int,
    verdict: str,
) -> None:
    modules = [_module(f"bench_{n}", run, order=n) for n, run in enumerate(runs)]
    monkeypatch.setattr(harness, "discover", lambda only: modules)

    assert harness.main(["--only", "anything"]) == exit_code

    out = capsys.readouterr().out
    assert verdict in out.splitlines()[-2]
    assert out.splitlines()[-1] == f"# {len(runs)} bench modules, {exit_code and 1} below goal or broken"


def test_every_failing_budget_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    def two_failures(ctx: Any) -> list[Result]:
        return [*_failing(ctx), *_too_slow_throughput(ctx), *_passing(ctx)]

    assert harness.run_benches([_module("bench_x", two_failures)], ctx=None) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("BENCH slow_thing 9.000 s ratio=4.000 goal=3 FAIL")
    assert lines[1].startswith("BENCH emails 10.000 emails/s ratio=0.200 goal=0.5 FAIL")
    assert lines[2].startswith("BENCH fast_thing 1.000 s ratio=1.500 goal=3 PASS")


def test_only_selects_modules_by_name_in_order() -> None:
    names = [m.__name__ for m in harness.discover(["coverage", "bench_seed"])]
    assert names == ["bench.bench_seed", "bench.bench_coverage"]

    everything = [m.__name__ for m in harness.discover(None)]
    assert len(everything) > 10 and set(names) < set(everything)
    orders = [getattr(m, "ORDER", 100) for m in harness.discover(None)]
    assert orders == sorted(orders)


def test_only_selects_the_module_that_prints_a_bench_line() -> None:
    """``tier_review_1m`` names a BENCH line of bench_tier_review and is a part of the names of
    the rules and scaling modules: the module printing it is the one meant."""
    assert [m.__name__ for m in harness.discover(["tier_review_1m"])] == ["bench.bench_tier_review"]
    assert [m.__name__ for m in harness.discover(["tier_review_1m_rules"])] == [
        "bench.bench_tier_review_1m_rules"
    ]


def test_only_matching_nothing_fails(without_setup: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert harness.main(["--only", "no_such_bench"]) == 2
    assert "no bench module matches no_such_bench" in capsys.readouterr().out


def test_the_command_exits_non_zero_on_a_failing_budget(tmp_path: Path) -> None:
    """The real ``python -m bench`` process: its exit status is what make (and CI) sees."""
    script = tmp_path / "run_bench.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from types import SimpleNamespace\n"
        "from bench import __main__ as harness\n"
        "from bench.common import Result\n"
        "harness._setup = lambda: None\n"
        "failing = SimpleNamespace(__name__='bench.bench_fake', ORDER=1, "
        "run=lambda ctx: [Result('fake', 5.0, 's', ratio=5.0, goal=3.0)])\n"
        "harness.discover = lambda only: [failing]\n"
        "sys.exit(harness.main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script), "--only", "fake"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 1, done.stderr
    assert "BENCH fake 5.000 s ratio=5.000 goal=3 FAIL" in done.stdout


def _load_run(server_ms: dict[str, list[float]], status: dict[str, dict[str, int]]) -> dict[str, Result]:
    from bench.load_figures import load_results

    review = {"id": 1, "status": "finished", "changes_applied": 10}
    during = {"status": "running", "accounts_done": 5, "accounts_total": 10}
    out = {"server_ms": server_ms, "client_ms": {}, "status": status}
    results = load_results(
        out, users=2, load_seconds=10.0, total=10, moved=1, during=during, review=review, nightly=""
    )
    return {result.name: result for result in results}


def test_the_load_run_fails_on_unfinished_requests_few_samples_and_slow_pages() -> None:
    trivial = [1.0] * 40
    figures = _load_run(
        {
            "trivial view": trivial,
            "worklist": [10.0] * 40,
            "account page": [30.0] * 40,
            "api tier history": [5.0],
        },
        {
            "trivial view": {"200": 40},
            "worklist": {"200": 40, "error:unfinished": 1},
            "account page": {"200": 39, "error:302": 1},
        },
    )
    # An unfinished request and a redirect are two errors; the run fails on them.
    assert figures["load_errors"].value == 2 and figures["load_errors"].passed is False
    assert figures["load_p95_worklist"].ratio == 10.0 and figures["load_p95_worklist"].passed is True
    assert figures["load_p95_account_page"].ratio == 30.0 and figures["load_p95_account_page"].passed is False
    # One sample is no p95: the line fails instead of printing one.
    assert figures["load_p95_api_tier_history"].unit == "samples"
    assert figures["load_p95_api_tier_history"].passed is False
    assert figures["load_throughput"].value == (40 + 41 + 40) / 10.0


def _raise_past_enterprise(django_capture_on_commit_callbacks: Any) -> tuple[Any, int]:
    """An MM1 account's ACV raised past the Enterprise threshold: its re-evaluation is enqueued in
    the change's transaction and published on commit. Returns the account and the outbox rows
    the change left."""
    from decimal import Decimal

    from django.db import transaction

    from accounts.services.accounts import account_update
    from csplatform.models import PendingDispatch
    from tests.engagement.factories import tiered_account

    account = tiered_account("MM1")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        account_update(account=account, actor=None, source="bench", data={"acv": Decimal("90000")})
    return account, PendingDispatch.objects.count()


def test_work_enqueued_with_follow_ups_dropped_is_neither_run_nor_kept(
    db, django_capture_on_commit_callbacks
) -> None:
    from bench.common import follow_ups_dropped
    from segmentation.models import TierChange

    with follow_ups_dropped():
        account, left = _raise_past_enterprise(django_capture_on_commit_callbacks)
        assert left > 0  # enqueued, and not published
    from csplatform.models import PendingDispatch

    assert not PendingDispatch.objects.exists()
    assert not TierChange.objects.filter(account=account).exists()
    account.refresh_from_db()
    assert account.tier_code == "MM1"


def test_without_it_the_same_change_is_published_and_runs(db, django_capture_on_commit_callbacks) -> None:
    from segmentation.models import TierChange

    account, left = _raise_past_enterprise(django_capture_on_commit_callbacks)
    assert left == 0
    assert TierChange.objects.filter(account=account).exists()
    account.refresh_from_db()
    assert account.tier_code == "ENT"


@pytest.mark.django_db
def test_a_bench_takes_back_its_portfolio_and_leaves_other_accounts_alone(alice, bob):
    for n in range(3):
        AccountFactory(crm_source="bench-x", external_id=f"csm-a-{n}", csm=alice)
    AccountFactory(crm_source="bench-x", external_id="csm-b-0", csm=bob)  # another bench CSM's
    AccountFactory(crm_source="salesforce", external_id="csm-a-9", csm=bob)  # not a bench account
    # Another bench handed one of them to someone else.
    Account.objects.filter(external_id="csm-a-1").update(csm=bob)

    present = portfolio_taken_back(alice, crm_source="bench-x", external_id_prefix="csm-a-")

    assert present == {"csm-a-0", "csm-a-1", "csm-a-2"}
    assert set(Account.objects.filter(csm=alice).values_list("external_id", flat=True)) == present
    others = set(Account.objects.filter(csm=bob).values_list("external_id", flat=True))
    assert others == {"csm-b-0", "csm-a-9"}


def _dead_rows(cursor: Any, table: str) -> int:
    cursor.execute("SELECT pg_stat_force_next_flush()")  # this backend's counts, now
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", [table])
    return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_the_benches_vacuum_exactly_the_tables_autovacuum_would() -> None:
    """The bench machine runs PostgreSQL without autovacuum; the benches vacuum, untimed, the tables
    past autovacuum's own threshold (50 + 20% of the live rows by default), and no other."""
    from django.db import connection

    from bench.common import vacuum_as_autovacuum_would

    past, below = "bench_probe_past_threshold", "bench_probe_below_threshold"
    own_factor, own_threshold = "bench_probe_own_scale_factor", "bench_probe_own_threshold"
    switched_off = "bench_probe_autovacuum_off"
    probes = (past, below, own_factor, own_threshold, switched_off)
    with connection.cursor() as cursor:
        try:
            for table, rows, deleted in (
                (past, 300, 300),
                (below, 300, 60),
                (own_factor, 1000, 100),
                (own_threshold, 100, 30),
                (switched_off, 300, 300),
            ):
                cursor.execute(f"CREATE TABLE {table} (n int)")
                cursor.execute(f"INSERT INTO {table} SELECT generate_series(1, %s)", [rows])
                cursor.execute(f"DELETE FROM {table} WHERE n <= %s", [deleted])
            # A table's own scale factor (as a migration sets it) replaces the server's.
            cursor.execute(f"ALTER TABLE {own_factor} SET (autovacuum_vacuum_scale_factor = 0.01)")
            cursor.execute(f"ALTER TABLE {own_threshold} SET (autovacuum_vacuum_threshold = 10)")
            cursor.execute(f"ALTER TABLE {switched_off} SET (autovacuum_enabled = false)")
            # past: 300 dead > 50 + 0.2 x 0. below: 60 dead, more than either part of the
            # threshold alone (50; 0.2 x 240 = 48) but not their sum (98). own_factor: 100 dead,
            # below 50 + 0.2 x 900 = 230 by the server's factor, past 50 + 0.01 x 900 = 59 by its own.
            # own_threshold: 30 dead, below 50 + 0.2 x 70 = 64, past its own 10 + 14 = 24.
            # switched_off: past any threshold, but autovacuum never visits it.
            assert _dead_rows(cursor, past) == 300
            assert _dead_rows(cursor, below) == 60
            assert _dead_rows(cursor, own_factor) == 100
            assert _dead_rows(cursor, own_threshold) == 30
            assert _dead_rows(cursor, switched_off) == 300

            vacuumed = vacuum_as_autovacuum_would()

            assert {past, own_factor, own_threshold} <= set(vacuumed)
            assert below not in vacuumed
            assert switched_off not in vacuumed
            assert _dead_rows(cursor, past) == 0
            assert _dead_rows(cursor, own_factor) == 0
            assert _dead_rows(cursor, own_threshold) == 0
            assert _dead_rows(cursor, switched_off) == 300
            assert _dead_rows(cursor, below) == 60
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(probes)}")


def test_the_history_floor_writes_a_review_s_history_for_every_moved_account_and_keeps_none(db) -> None:
    """The reference beside ``tier_review_1m``: hand-written SQL that writes, for each account whose
    moved ACV changes its tier, the tier, a TierChange and a tier state, then rolls all of it back
    (the moved ACVs with it)."""
    from decimal import Decimal

    from bench.bench_tier_review import EVERY_NTH_CHANGES, history_sql_baseline
    from segmentation.models import AccountTierState, TierChange, TierReview
    from tests.engagement.factories import tiered_account

    accounts = [tiered_account("MM2", acv=Decimal("20000.00")) for _ in range(2 * EVERY_NTH_CHANGES)]
    moved = [a.pk for a in accounts if a.pk % EVERY_NTH_CHANGES == 0]
    assert len(moved) == 2
    reviews_before = TierReview.objects.count()

    seconds, accounts_moved, written = history_sql_baseline()

    assert seconds > 0
    assert accounts_moved == 2
    assert written == [2, 2, 2]  # tiers, TierChanges, tier states
    assert TierChange.objects.count() == 0
    assert AccountTierState.objects.count() == 0
    assert TierReview.objects.count() == reviews_before
    kept = Account.objects.filter(pk__in=moved).values_list("acv", "tier_code")
    assert set(kept) == {(Decimal("20000.00"), "MM2")}


def test_a_review_an_interrupted_bench_left_open_no_longer_blocks_the_next_one(db) -> None:
    """A bench killed mid-review leaves its review running; the next review bench fails it first
    instead of stopping at ReviewInProgress, and leaves finished reviews as they are."""
    from bench.common import reviews_left_open_failed
    from segmentation.models import ReviewStatus, TierPolicy, TierReview
    from segmentation.services.reviews import ReviewInProgress, tier_review_start

    policy = TierPolicy.objects.get(status="active")
    finished = TierReview.objects.create(policy=policy, status=ReviewStatus.FINISHED, is_open=None)
    left_open = TierReview.objects.create(policy=policy, status=ReviewStatus.RUNNING)
    with pytest.raises(ReviewInProgress):
        tier_review_start()

    assert reviews_left_open_failed() == 1

    left_open.refresh_from_db()
    finished.refresh_from_db()
    assert (left_open.status, left_open.is_open) == (ReviewStatus.FAILED, None)
    assert "interrupted benchmark" in left_open.error
    assert finished.status == ReviewStatus.FINISHED
    assert tier_review_start().status == ReviewStatus.QUEUED
