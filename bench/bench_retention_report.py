"""The retention report by tier over a year, for a leader, with 1,000,000 accounts and 250,000
renewal outcomes.

Measured: ``GET /api/v1/reports/retention/?from=&to=&by=tier`` through the Django test client,
signed in as a CS leader (the real URL, view, authorization, ``retention_report`` and its SQL:
for each outcome, the tier held at the end of its renewal day from the applied tier history),
``SAMPLES`` requests after one warm-up; the figure is the p95 in ms. Baseline, same run, same
client: the p95 of a trivial view (the anonymous sign-in form, as in ``bench_pages``). Goal: the
report's p95 is at most 10x the trivial view's.

Setup (not timed, see ``bench.health_data``): ``ensure_accounts(n)``; applied tier history
dated in the past (every account's initial tiering about two years ago, a review change during
the year for one account in twenty); one outcome in the last 365 days for every fourth account,
consistent with the outcome rules; the segments of those renewal days kept, as the nightly job
keeps them (``renewal_segments_settle``, timed separately and printed in the note: it is the work
the report no longer does per request), followed by the vacuum autovacuum would run after it; a
temporary leader, deleted afterwards.
``BENCH_RETENTION_SAMPLES`` (default 20) changes the number of requests.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from bench.common import Context, Result

ORDER = 96
ACCOUNTS = int(os.environ.get("BENCH_RETENTION_ACCOUNTS", "1000000"))
SAMPLES = int(os.environ.get("BENCH_RETENTION_SAMPLES", "20"))
GOAL_RATIO = 10.0
LEADER_NAME = "bench-retention-leader"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _timed_ms(client: Any, url: str) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:200]!r}")
    return elapsed, response


def _leader() -> Any:
    from django.contrib.auth.models import Group

    from csplatform import roles
    from csplatform.models import User

    leader, _ = User.objects.get_or_create(
        username=LEADER_NAME, defaults={"email": f"{LEADER_NAME}@bench.example"}
    )
    leader.groups.add(Group.objects.get(name=roles.CS_LEADERSHIP))
    return leader


def report_plan(date_from: dt.date, date_to: dt.date) -> str:
    """EXPLAIN ANALYZE of the report's statement (for the note when the goal is missed)."""
    from django.db import connection

    from engagement.retention import queries

    statement = queries._statement(by="tier", csm_id=None, account_ids=None, group=None, summed=True)
    params = queries._params(
        date_from=date_from, date_to=date_to, csm_id=None, account_ids=None, group=None, by="tier"
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.as_string(None), params)
        return "\n".join(row[0] for row in cursor.fetchall())


def run(ctx: Context) -> list[Result]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.seeding import ensure_accounts
    from bench import health_data
    from csplatform.models import User
    from engagement.retention.services import renewal_segments_settle

    setup_started = time.perf_counter()
    total = ensure_accounts(ACCOUNTS)
    history = health_data.ensure_tier_history()
    outcomes = health_data.ensure_outcomes()
    setup = time.perf_counter() - setup_started
    settle_started = time.perf_counter()
    settled = renewal_segments_settle()
    settle = time.perf_counter() - settle_started
    # A one-off settle of a whole year (this run's or an earlier one's) rewrote 250,000 rows at
    # once; in steady state the nightly job settles one day's outcomes and autovacuum (1 %
    # threshold on this table) clears their old versions within days. Vacuum so the requests
    # meet that state (a no-op when nothing is left to clear).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_renewaloutcome")
    date_to = timezone.localdate()
    date_from = date_to - dt.timedelta(days=365)
    url = f"/api/v1/reports/retention/?from={date_from}&to={date_to}&by=tier"

    leader = _leader()
    debug = settings.DEBUG
    settings.DEBUG = False  # as in production: no query log kept in memory
    try:
        leader_client, anonymous = Client(), Client()
        leader_client.force_login(leader)
        _, first = _timed_ms(leader_client, url)  # warm-up: per-process caches, the plan
        _timed_ms(anonymous, "/login/")
        report, trivial = [], []
        for _ in range(SAMPLES):
            report.append(_timed_ms(leader_client, url)[0])
            trivial.append(_timed_ms(anonymous, "/login/")[0])
    finally:
        settings.DEBUG = debug
        User.objects.filter(username=LEADER_NAME).delete()
    body = first.json()
    renewals = body["total"]["renewals"] if isinstance(body.get("total"), dict) else "?"
    groups = len(body.get("rows", []))
    report_p95, trivial_p95 = _p95(report), _p95(trivial)
    if os.environ.get("BENCH_RETENTION_PLAN"):
        print(report_plan(date_from, date_to), flush=True)
    return [
        Result(
            name="retention_report_p95",
            value=report_p95,
            unit="ms",
            ratio=report_p95 / trivial_p95,
            goal=GOAL_RATIO,
            note=(
                f"{SAMPLES} requests, {renewals} renewals in {groups} tier groups over {total:,} accounts; "
                f"median {sorted(report)[len(report) // 2]:.0f} ms; trivial view p95 {trivial_p95:.1f} ms; "
                f"setup {setup:.0f} s ({history:,} tier changes, {outcomes:,} outcomes); "
                f"nightly segments kept for {settled:,} outcomes in {settle:.1f} s"
            ),
        )
    ]
