"""seed_demo at benchmark size: 100,000 accounts on PostgreSQL.

Measured: the work of ``manage.py seed_demo --accounts 100000`` (demo people, 100,000 accounts,
contacts and 26 weekly usage snapshots for 20,000 of them: about 690,000 rows), in a transaction
that is rolled back so the bench database does not grow.

Baseline, same run, same table: a raw psycopg COPY of 100,000 minimal account rows (constant
values with owners, only the external id varies), also rolled back. The ratio says how much realistic data
costs over the cheapest possible way to write the accounts alone. Goal: at most 10x. The seed
writes about seven times the rows of the baseline, each generated in Python, so 7-10x means
generation keeps pace with COPY; measured around 4-6x on a 2-core machine.

Other benches fill their database with ``accounts.seeding.ensure_accounts(n)`` (100,000 or
1,000,000 accounts; a no-op when they are already there).
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts import seeding
from accounts.models import Account
from bench.common import Context, Result
from csplatform import roles

ORDER = 10
ACCOUNTS = 100_000
GOAL_RATIO = 10.0
# Far above the numbers ensure_accounts hands out, so nothing collides with accounts already there.
START_INDEX = 9_000_000


def _raw_copy_baseline(count: int) -> float:
    now = timezone.now()
    fields = [f for f in Account._meta.concrete_fields if not f.primary_key]
    constant: dict[str, Any] = {
        f.column: f.get_db_prep_save(
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default(),
            connection,
        )
        for f in fields
    }
    # Owners as in real rows, so the baseline pays for the same foreign-key checks.
    owner = seeding.ensure_demo_users()[roles.CSM][0]
    constant.update({"crm_source": "bench-baseline", "name": "Baseline account", "acv": "12000.00"})
    constant.update({"csm_id": owner, "ae_id": owner})
    columns = [f.column for f in fields]
    position = columns.index("external_id")
    template = [constant[column] for column in columns]
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            sql = f"COPY {connection.ops.quote_name(Account._meta.db_table)} ({quoted}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for index in range(count):
                    template[position] = f"BASE-{index:07d}"
                    copy.write_row(template)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _seed(count: int) -> tuple[float, seeding.SeedSummary]:
    with transaction.atomic():
        started = time.perf_counter()
        seeding.ensure_demo_users()
        summary = seeding.seed_accounts(count, seed=seeding.DEFAULT_SEED, start=START_INDEX)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, summary


def run(ctx: Context) -> list[Result]:
    # Best of two: the baseline is short, so one scheduling hiccup would move the ratio.
    baseline = min(_raw_copy_baseline(ACCOUNTS), _raw_copy_baseline(ACCOUNTS))
    seconds, summary = _seed(ACCOUNTS)
    rows = summary.accounts + summary.contacts + summary.usage_snapshots
    return [
        Result(
            name="seed_demo_100k",
            value=seconds,
            unit="s",
            ratio=seconds / baseline,
            goal=GOAL_RATIO,
            note=(
                f"{summary.accounts:,} accounts, {summary.contacts:,} contacts, "
                f"{summary.usage_snapshots:,} snapshots = {rows / seconds:,.0f} rows/s; "
                f"baseline raw COPY of {ACCOUNTS:,} minimal accounts {baseline:.2f} s"
            ),
        )
    ]
