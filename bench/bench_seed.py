"""``manage.py seed_demo --accounts 100000`` as a person runs it, on an empty database.

Measured: the real command in its own process (start-up included) on a freshly created and
migrated database (creating and migrating it is not timed): the demo people, 100,000 accounts,
contacts, 26 weekly usage snapshots and two years of renewal outcomes for the detailed accounts,
the commit with its deferred foreign-key checks, and the work the commit hands on: the Celery
workers started as the Procfile starts them (``bench.workers``, on ``CELERY_BROKER_URL``, queues
purged first) run the initial tiering the command queued. The clock stops when the command has
exited and every account has a tier. Goal: at most 60 seconds, in absolute terms. (The demo
engagement history the command also queues, touchpoints and tasks over the tiered book, runs
after the tiers in the workers; it is not part of this figure and the workers are stopped.)

Reported alongside, not judged: a raw psycopg COPY of 100,000 minimal account rows into the same
fresh database (the floor of writing the accounts alone), so a reader sees what the realistic
data and the derived state cost on top of it.

The throwaway database is ``<bench database>_seed``; it is dropped afterwards.
``BENCH_SEED_ACCOUNTS`` makes the run smaller while developing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from bench import workers as bench_workers
from bench.common import Context, Result

ORDER = 10
ACCOUNTS = int(os.environ.get("BENCH_SEED_ACCOUNTS", "100000"))
GOAL_SECONDS = 60.0
TIMEOUT_SECONDS = 600.0
BASE_DIR = Path(__file__).resolve().parent.parent


def _fresh_database(url: str) -> str:
    """Drop and create ``<name>_seed``; return its URL."""
    import psycopg

    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/')}_seed"
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parsed._replace(path=f"/{name}").geturl()


def _drop_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def _raw_copy_floor(url: str, count: int) -> float:
    """COPY ``count`` minimal accounts (every column the table requires) and roll back."""
    import psycopg

    with psycopg.connect(url) as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts_account' "
                "AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id' "
                "ORDER BY ordinal_position"
            )
        ]
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'accounts_account'"
            ).fetchall()
        )
        defaults = {
            "character varying": "x",
            "text": "",
            "numeric": "12000",
            "integer": "0",
            "smallint": "0",
            "bigint": "0",
            "boolean": "f",
            "date": "2026-01-01",
            "timestamp with time zone": "2026-01-01T00:00:00Z",
            "jsonb": "{}",
        }
        template = [defaults.get(types[column], "") for column in columns]
        position = columns.index("external_id")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY accounts_account ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for index in range(count):
                template[position] = f"BASE-{index:07d}"
                copy.write_row(template)
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed


def _tier_counts(url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE tier_code = '') FROM accounts_account"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def run(ctx: Context) -> list[Result]:
    url = _fresh_database(os.environ["DATABASE_URL"])
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    try:
        _manage(["migrate", "--noinput", "--verbosity", "0"], env)
        floor = _raw_copy_floor(url, ACCOUNTS)
        bench_workers.purge(env)
        with bench_workers.procfile_workers(prefix="seed", env=env):
            time.sleep(3)  # the workers are up before the clock starts, as in production
            started = time.perf_counter()
            done = _manage(["seed_demo", "--accounts", str(ACCOUNTS)], env)
            command_seconds = time.perf_counter() - started
            deadline = started + TIMEOUT_SECONDS
            accounts, untiered = _tier_counts(url)
            while untiered and time.perf_counter() < deadline:
                time.sleep(0.25)
                accounts, untiered = _tier_counts(url)
            seconds = time.perf_counter() - started
    finally:
        _drop_database(url)
    if accounts != ACCOUNTS or untiered:
        raise RuntimeError(f"seed_demo left {accounts} accounts, {untiered} without a tier")
    summary = re.search(r"Seeded demo data.*", done.stdout)
    return [
        Result(
            name="seed_demo_100k",
            value=seconds,
            unit="s",
            goal=GOAL_SECONDS,
            note=(
                f"real command on an empty database {command_seconds:.1f} s (commit included), then "
                f"initial tiers of {accounts:,} accounts by the workers; "
                f"{summary.group(0) if summary else ''}; raw COPY of {ACCOUNTS:,} minimal accounts "
                f"{floor:.2f} s (x{seconds / floor:.1f})"
            ),
        )
    ]
