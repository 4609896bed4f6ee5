"""Shared pieces of `make bench`: the result line format and a context for bench modules.

A bench module is ``bench/bench_<name>.py`` with ``ORDER: int`` and ``def run(ctx) -> list[Result]``.
Figures are ratios to a baseline measured in the same run, because these machines are noisy.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    name: str
    value: float
    unit: str
    ratio: float | None = None
    goal: float | None = None
    # For ratios and values: True when bigger is better (throughput), False for times/counts.
    higher_is_better: bool = False
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.goal is None:
            return None
        measured = self.ratio if self.ratio is not None else self.value
        return measured >= self.goal if self.higher_is_better else measured <= self.goal

    def line(self) -> str:
        value = f"{self.value:.3f}" if isinstance(self.value, float) else str(self.value)
        parts = ["BENCH", self.name, value, self.unit]
        parts.append(f"ratio={self.ratio:.3f}" if self.ratio is not None else "ratio=-")
        parts.append(f"goal={self.goal:g}" if self.goal is not None else "goal=-")
        verdict = self.passed
        parts.append("-" if verdict is None else ("PASS" if verdict else "FAIL"))
        line = " ".join(parts)
        return f"{line}  # {self.note}" if self.note else line


class BenchError(Exception):
    """A bench that cannot measure (say, the service it measures is not there yet): the runner
    prints ``BENCH <name> ERROR  # <reason>`` and counts it as broken."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name = name
        self.reason = reason


@dataclass
class Context:
    """What a bench module gets: options and small helpers."""

    options: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def peak_rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    @staticmethod
    @contextmanager
    def timer() -> Iterator[Callable[[], float]]:
        started = time.perf_counter()
        elapsed: list[float] = []
        yield lambda: elapsed[0] if elapsed else time.perf_counter() - started
        elapsed.append(time.perf_counter() - started)


def reviews_left_open_failed() -> int:
    """Mark failed any review an interrupted bench run left open: one review is open at a time,
    so a bench killed mid-review would otherwise make every later review bench stop at
    ``ReviewInProgress`` (the service resumes a stale review only after ten minutes). Returns how
    many there were. The bench database is the benches' own: no worker is running them."""
    from segmentation.models import ReviewStatus, TierReview

    return TierReview.objects.filter(is_open=True).update(
        status=ReviewStatus.FAILED, is_open=None, error="Abandoned by an interrupted benchmark run."
    )


@contextmanager
def follow_ups_dropped() -> Iterator[None]:
    """Run work in the bench process as a worker would, without what it hands to other tasks: every
    task enqueued inside stays in the outbox, unpublished, and is deleted on the way out. For a
    review run here: the higher apps' reactions to its changes are not the review's, and their own
    benches measure them."""
    from csplatform import dispatch
    from csplatform.models import PendingDispatch

    before = PendingDispatch.objects.order_by("-id").values_list("id", flat=True).first() or 0
    # Each transaction's rows are published together after its commit, through ``publish_many``.
    publish_many = dispatch.publish_many
    dispatch.publish_many = lambda pending_ids: True  # type: ignore[assignment]
    try:
        yield
    finally:
        dispatch.publish_many = publish_many  # type: ignore[assignment]
        PendingDispatch.objects.filter(id__gt=before).delete()


def nightly_summaries_current() -> str:
    """Bring what the nightly jobs keep up to date, as in steady state (untimed): the CSM portfolio
    summary (the bench bulk-creates accounts without signals) and the folded task load, the
    renewal outcomes of ended days settled into the retention and override day sums, the tables
    past autovacuum's threshold vacuumed (``vacuum_as_autovacuum_would``), and planner
    statistics (a database just bulk-loaded has none until autovacuum comes by). Returns a note of
    what it took."""
    import time

    from django.db import connection

    from engagement.capacity.services import csm_portfolio_refresh, csm_task_load_compact
    from engagement.retention.services import renewal_segments_settle

    started = time.perf_counter()
    csm_portfolio_refresh()
    csm_task_load_compact()
    note = f"portfolio summary refreshed and task load folded in {time.perf_counter() - started:.1f} s"
    started = time.perf_counter()
    settled = renewal_segments_settle()
    note += f", {settled:,} renewal outcomes settled in {time.perf_counter() - started:.1f} s"
    with connection.cursor() as cursor:
        # The folds' dead rows, which autovacuum (off on the bench machine) would have removed.
        cursor.execute("VACUUM engagement_csmtaskload")
    started = time.perf_counter()
    vacuumed = vacuum_as_autovacuum_would()
    note += (
        f", {len(vacuumed)} tables past autovacuum's threshold vacuumed in "
        f"{time.perf_counter() - started:.1f} s ({', '.join(vacuumed) or 'none'})"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return note


# The tables autovacuum would vacuum now, by its own rule: more dead rows than
# autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor x live rows, each read from the
# table's own storage parameters where a migration set them and from the server otherwise, so the
# rule is the one PostgreSQL applies there when autovacuum is on (a table with autovacuum_enabled
# off is left alone, as autovacuum leaves it).
_PAST_AUTOVACUUM_THRESHOLD = """
    WITH tables AS (
        SELECT s.schemaname, s.relname, s.n_dead_tup, s.n_live_tup,
               (SELECT split_part(o, '=', 2) FROM unnest(c.reloptions) AS o
                WHERE starts_with(o, 'autovacuum_vacuum_threshold=')) AS own_threshold,
               (SELECT split_part(o, '=', 2) FROM unnest(c.reloptions) AS o
                WHERE starts_with(o, 'autovacuum_vacuum_scale_factor=')) AS own_scale_factor,
               (SELECT split_part(o, '=', 2) FROM unnest(c.reloptions) AS o
                WHERE starts_with(o, 'autovacuum_enabled=')) AS own_enabled
        FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    )
    SELECT schemaname, relname FROM tables
    WHERE COALESCE(own_enabled::boolean, true)
      AND n_dead_tup > COALESCE(own_threshold, current_setting('autovacuum_vacuum_threshold'))::float8
          + COALESCE(own_scale_factor, current_setting('autovacuum_vacuum_scale_factor'))::float8 * n_live_tup
    ORDER BY relname
"""


def vacuum_as_autovacuum_would() -> list[str]:
    """VACUUM (ANALYZE) the tables autovacuum would have vacuumed by now, and return their names.

    The bench machine's PostgreSQL runs with autovacuum off; a production server runs with it on.
    Without it, the rows that earlier benches updated or deleted stay behind as dead rows (a kept
    summary updated in place at every coverage rewrite grew to many times its live rows), and a
    page that reads such a table reads them all: the figure would then measure this machine's
    setting, not the application. Only tables past autovacuum's own threshold are vacuumed (a
    plain VACUUM: it frees the dead rows, it does not rewrite or shrink the table), untimed, before
    the measurement. The baseline is measured on the same database."""
    from django.db import connection
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(_PAST_AUTOVACUUM_THRESHOLD)
        tables = cursor.fetchall()
        for schema, name in tables:
            cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, name)))
    return [name for _, name in tables]


def portfolio_taken_back(csm: Any, *, crm_source: str, external_id_prefix: str = "") -> set[str]:
    """A bench CSM's portfolio survives between runs, but another bench may have handed some of it
    to someone else (a sync, a reassignment; the digest bench spreads the whole book over its
    people): give those accounts back to ``csm`` and return the external ids present, so the
    caller creates only the missing ones."""
    from accounts.models import Account

    mine = Account.objects.filter(crm_source=crm_source, external_id__startswith=external_id_prefix)
    mine.exclude(csm=csm).update(csm=csm)
    return set(mine.values_list("external_id", flat=True))
