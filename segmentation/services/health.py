"""Account health: computed for a batch of accounts (an event), or for the whole book (nightly).

Per batch: the signals the active scorecard reads are fetched set-based (a few queries), each
account is scored in Python by the reference (``segmentation.health``), then the day's
AccountHealth rows are written with one upsert and the accounts' latest health with one UPDATE
(``segmentation.queries.health``). An account that falls into ``at_risk`` is announced with
``health_band_changed`` inside the transaction; engagement raises the flag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.selectors import active_book
from csplatform.queries import commit_without_flush_wait

from ..account_metrics import ACCOUNT_FACT_FIELDS, AccountFacts, signals_for
from ..engine import PolicySnapshot
from ..health import Component, Scorecard, compute_health, explanation_kept
from ..health_signals import health_signal_labels, registered_health_signals
from ..models import HealthScorecard, ScorecardStatus
from ..queries.health import HealthRow, account_health_upsert, accounts_latest_health_update
from ..rules import SIGNALS
from ..signals import health_band_changed

# Accounts per batch: a batch reads ~26 usage rows and a few engagement rows per account and binds
# a handful of arrays of this length; 2,000 accounts take well under a second and keep each
# transaction's row locks on accounts short.
HEALTH_CHUNK = 2_000
# Event-driven recomputes are small; longer id lists are split into tasks of this size.
EVENT_BATCH_SIZE = 500


def scorecard_snapshot(scorecard: HealthScorecard) -> Scorecard:
    """What scoring needs from a scorecard, loaded once per run."""
    labels = health_signal_labels()
    return Scorecard(
        id=scorecard.pk,
        version=scorecard.version,
        watch_from=scorecard.watch_from,
        healthy_from=scorecard.healthy_from,
        components=tuple(
            Component(
                signal=c.signal,
                weight=Decimal(c.weight),
                steps=tuple((Decimal(str(s["from"])), int(s["points"])) for s in c.points),
                missing_points=c.missing_points,
                direction=c.direction,
                label=labels.get(c.signal, c.signal.replace("_", " ")),
            )
            for c in scorecard.components.all()
        ),
    )


def active_scorecard_snapshot() -> Scorecard | None:
    scorecard = (
        HealthScorecard.objects.prefetch_related("components").filter(status=ScorecardStatus.ACTIVE).first()
    )
    return None if scorecard is None else scorecard_snapshot(scorecard)


def health_signal_values(
    *, facts: Sequence[AccountFacts], signals: set[str], today: dt.date
) -> dict[int, dict[str, Any]]:
    """{account_id: {signal: value}} for the ``signals`` a scorecard reads (None: no data)."""
    ids = [f.id for f in facts]
    rule_signals = signals & set(SIGNALS)
    policy = PolicySnapshot(id=None, version=0, tiers=())
    if "acv_within_pct_of_next_threshold" in rule_signals:
        from .evaluation import active_policy_snapshot

        policy = active_policy_snapshot()
    values = signals_for(facts, policy=policy, needed=rule_signals, today=today)
    for name, registered in registered_health_signals().items():
        if name not in signals:
            continue
        found = registered.batch(ids, today)
        for account_id in ids:
            values[account_id][name] = found.get(account_id)
    return values


def _compute_batch(*, account_ids: Sequence[int], scorecard: Scorecard, today: dt.date) -> int:
    rows = (
        active_book()
        .filter(pk__in=account_ids)
        .order_by("pk")
        .values_list(*ACCOUNT_FACT_FIELDS, "health_band")
    )
    facts, previous = [], {}
    for row in rows:
        facts.append(AccountFacts(*row[:-1]))
        previous[row[0]] = row[-1]
    if not facts:
        return 0
    values = health_signal_values(facts=facts, signals=scorecard.signals, today=today)
    scored = []
    for account in facts:
        health = compute_health(scorecard, values[account.id])
        scored.append(
            HealthRow(
                account.id, health.score, health.band, explanation_kept(health.explanation), health.summary
            )
        )
    assert scorecard.id is not None
    account_health_upsert(rows=scored, date=today, scorecard_id=scorecard.id)
    accounts_latest_health_update(rows=scored, date=today)
    changed = [row for row in scored if row.band != previous[row.account_id]]
    if changed:
        health_band_changed.send(
            sender=HealthScorecard,
            account_ids=[row.account_id for row in changed],
            from_bands=[previous[row.account_id] for row in changed],
            to_bands=[row.band for row in changed],
        )
    return len(scored)


def health_compute_accounts(*, account_ids: Iterable[int], today: dt.date | None = None) -> int:
    """Score ``account_ids`` (churned ones are skipped) under the active scorecard for ``today``.

    Safe to run twice: the day's row is replaced. Returns how many accounts were scored.
    """
    scorecard = active_scorecard_snapshot()
    if scorecard is None:
        return 0
    today = today or timezone.localdate()
    ids = sorted(set(account_ids))
    done = 0
    for start in range(0, len(ids), HEALTH_CHUNK):
        with transaction.atomic():
            done += _compute_batch(
                account_ids=ids[start : start + HEALTH_CHUNK], scorecard=scorecard, today=today
            )
    return done


def health_compute_book(*, today: dt.date | None = None) -> int:
    """The nightly run: every non-churned account, in primary-key chunks, one transaction each."""
    scorecard = active_scorecard_snapshot()
    if scorecard is None:
        return 0
    today = today or timezone.localdate()
    active = active_book().order_by("pk")
    done, after = 0, 0
    while True:
        chunk = list(active.filter(pk__gt=after).values_list("pk", flat=True)[:HEALTH_CHUNK])
        if not chunk:
            return done
        with transaction.atomic():
            # A batch a database crash loses keeps the day before's health until the next run.
            commit_without_flush_wait()
            done += _compute_batch(account_ids=chunk, scorecard=scorecard, today=today)
        after = chunk[-1]


def enqueue_health_recompute(*, account_ids: Iterable[int]) -> None:
    """Recompute these accounts' health in a task once the caller's transaction commits."""
    from csplatform.dispatch import enqueue

    from ..jobs import compute_health_accounts

    ids = sorted(set(account_ids))
    for start in range(0, len(ids), EVENT_BATCH_SIZE):
        enqueue(compute_health_accounts, account_ids=ids[start : start + EVENT_BATCH_SIZE])
