"""The health backtest over 100,000 accounts and their renewal outcomes of the last 12 months.

Measured: ``segmentation.services.health_backtest.health_backtest(...)`` for the active scorecard
(the score each account would have had 90 days before its renewal, ROC AUC, churn rate per band),
called once after the setup. Goal: under 30 s (no baseline: ``ratio=-``).

Scope: the book holds 1,000,000 accounts and 250,000 outcomes (the retention bench's). The
backtest runs in a transaction from which the outcomes of every account beyond the first 100,000
are deleted first (not timed), leaving the ~25,000 outcomes of the first 100,000 accounts; the
transaction is rolled back afterwards, so nothing the backtest writes stays either.

Setup (not timed, see ``bench.health_data``): ``ensure_accounts(n)``, 26 weeks of usage for every
account, weekly usage back to ``BACKTEST_WEEKS`` weeks ago for the accounts with outcomes among the
first 100,000 (the backtest reads usage as it was 90 days before each renewal), the outcomes.

The service is imported when the bench runs: until it exists the bench reports
``BENCH health_backtest_100k ERROR`` with the reason. Its parameters are matched by name
(scorecard or scorecard_id, today/as_of, date_from/date_to, user); a required parameter the bench
does not know is reported the same way.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import time
from typing import Any

from bench.common import BenchError, Context, Result

ORDER = 97
NAME = "health_backtest_100k"
ACCOUNTS = int(os.environ.get("BENCH_BACKTEST_BOOK", "1000000"))
BACKTEST_ACCOUNTS = 100_000
GOAL_SECONDS = 30.0
LEADER_NAME = "bench-backtest-leader"


def _service() -> Any:
    try:
        from segmentation.services import health_backtest as module
    except ImportError as error:
        raise BenchError(
            NAME, f"segmentation.services.health_backtest cannot be imported yet ({error})"
        ) from None
    function = getattr(module, "health_backtest", None)
    if function is None:
        raise BenchError(NAME, "segmentation.services.health_backtest has no health_backtest()")
    return function


def _arguments(function: Any, *, today: dt.date, leader: Any) -> dict[str, Any]:
    from segmentation.models import HealthScorecard

    scorecard = HealthScorecard.objects.get(status="active")
    known = {
        "scorecard": scorecard,
        "scorecard_id": scorecard.pk,
        "today": today,
        "as_of": today,
        "date_to": today,
        "date_from": today - dt.timedelta(days=365),
        "user": leader,
        "by": leader,
    }
    arguments, unknown = {}, []
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in known:
            arguments[name] = known[name]
        elif parameter.default is parameter.empty:
            unknown.append(name)
    if unknown:
        raise BenchError(
            NAME, f"health_backtest() needs parameters the bench does not know: {', '.join(unknown)}"
        )
    return arguments


def _describe(result: Any) -> str:
    """What the result says, as far as the bench can tell without knowing its type."""
    parts = []
    for field in ("outcomes", "accounts", "auc", "roc_auc"):
        value = result.get(field) if isinstance(result, dict) else getattr(result, field, None)
        if value is not None:
            parts.append(f"{field} {len(value) if isinstance(value, (list, tuple)) else value}")
    return ", ".join(parts) or type(result).__name__


def run(ctx: Context) -> list[Result]:
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.seeding import ensure_accounts
    from bench import health_data
    from csplatform import roles
    from csplatform.models import User

    backtest = _service()
    setup_started = time.perf_counter()
    ensure_accounts(ACCOUNTS)
    health_data.ensure_usage_for_all()
    health_data.ensure_outcomes()
    older_usage = health_data.ensure_backtest_usage(BACKTEST_ACCOUNTS)
    setup = time.perf_counter() - setup_started
    today = timezone.localdate()
    leader, _ = User.objects.get_or_create(
        username=LEADER_NAME, defaults={"email": f"{LEADER_NAME}@bench.example"}
    )
    leader.groups.add(Group.objects.get(name=roles.CS_LEADERSHIP))
    try:
        arguments = _arguments(backtest, today=today, leader=leader)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM accounts_renewaloutcome WHERE account_id > "
                    "(SELECT MAX(id) FROM (SELECT id FROM accounts_account ORDER BY id LIMIT %s) first)",
                    [BACKTEST_ACCOUNTS],
                )
                cursor.execute(
                    "SELECT COUNT(*) FROM accounts_renewaloutcome WHERE renewal_date > %s",
                    [today - dt.timedelta(days=365)],
                )
                outcomes = cursor.fetchone()[0]
            started = time.perf_counter()
            result = backtest(**arguments)
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
    finally:
        User.objects.filter(username=LEADER_NAME).delete()
    return [
        Result(
            name=NAME,
            value=seconds,
            unit="s",
            goal=GOAL_SECONDS,
            note=(
                f"{outcomes:,} outcomes of the first {BACKTEST_ACCOUNTS:,} accounts in the last 12 months; "
                f"result: {_describe(result)}; "
                f"setup {setup:.0f} s ({older_usage:,} older usage rows added now)"
            ),
        )
    ]
