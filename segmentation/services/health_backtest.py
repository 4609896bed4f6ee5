"""Backtest of a health scorecard: would it have seen last year's churn coming?

For every renewal outcome recorded with a renewal date in the last 12 months
(``today − 365 ≤ renewal_date ≤ today``), the score the account would have had **90 days before
its renewal** (its *as-of day*), scored by the pure reference (``segmentation.health``), compared
with what happened. A *bad* outcome is ``churned`` or ``contracted``. The figures:

- **ROC AUC** of ``100 − score`` (a lower score means more risk) for separating bad outcomes from
  the rest, by the rank formula (Mann–Whitney U; ties count half): the probability that a random
  bad renewal scored lower than a random good one. 0.5 is a coin, 1.0 perfect. With fewer than
  ``MIN_OUTCOMES`` renewals, or none bad or none good, there is no AUC, only a message saying why.
- per band: renewals, the churn rate and the bad-outcome rate.

How each input is rebuilt as of the as-of day (approximations are named):

- usage signals (active users trend, seat utilisation, feature adoption, tickets in 30 days): from
  the usage periods starting up to the as-of day (and within the live lookback before it), by the
  same code the live scoring uses (``account_metrics.usage_values``); later periods never count.
- ``acv``: the outcome's ARR before the renewal (the ACV change history is not read);
  ``acv_within_pct_of_next_threshold`` from it under today's active tier policy.
- ``days_to_renewal``: the days from the as-of day to the renewal (90 by construction).
- contact signals (champion, executive sponsor): today's contacts (no contact history is kept).
- registered signals with a history function (engagement's ``days_since_last_touch``: touchpoints
  before the end of the as-of day; ``open_flags``: flags raised by then and neither closed nor
  expired by then); registered signals without one (``coverage_kept``: the stored coverage is
  today's snapshot; ``survey_score``) count as missing and earn the component's missing points.
- the **active** scorecard: AccountHealth is the record of what it scored, so when the account has
  a stored row computed under this very scorecard on the as-of day or up to ``STORED_MAX_AGE_DAYS``
  before it, that score is used (it saw the real coverage and flags); otherwise it is recomputed
  like a draft's. A draft (never stored) is always recomputed, so a draft copied from the active
  scorecard may differ slightly where history fills in what reconstruction cannot.

Reads are set-based: per chunk of ``CHUNK`` outcomes one statement per kind of input, whatever
the book size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import RenewalOutcome, RenewalOutcomeKind

from ..account_metrics import USAGE_LOOKBACK_DAYS, AccountFacts, signals_for, usage_values
from ..engine import PolicySnapshot
from ..health import BAND_LABELS, BANDS, Scorecard, compute_health
from ..health_signals import health_signal_histories, registered_health_signals
from ..models import HealthScorecard, ScorecardStatus
from ..queries.health_backtest import stored_scores_as_of, usage_history_as_of
from ..rules import HEALTH_SIGNALS, SIGNALS, USAGE_SIGNALS
from .health import scorecard_snapshot

WINDOW_DAYS = 365
LEAD_DAYS = 90
MIN_OUTCOMES = 20
STORED_MAX_AGE_DAYS = 7
CHUNK = 5_000
BAD_OUTCOMES = frozenset({RenewalOutcomeKind.CHURNED.value, RenewalOutcomeKind.CONTRACTED.value})


@dataclass(frozen=True)
class BacktestCase:
    """One renewal as the scorecard would have seen it on its as-of day."""

    account_id: int
    renewal_date: dt.date
    outcome: str
    score: int
    band: str
    # Each component's points, in scorecard order (empty when the stored score was used).
    points: tuple[int, ...]
    from_history: bool

    @property
    def bad(self) -> bool:
        return self.outcome in BAD_OUTCOMES


@dataclass(frozen=True)
class BandFigures:
    band: str
    label: str
    renewals: int
    churned: int
    bad: int

    @property
    def churn_rate(self) -> float | None:
        return self.churned / self.renewals if self.renewals else None

    @property
    def bad_rate(self) -> float | None:
        return self.bad / self.renewals if self.renewals else None


@dataclass(frozen=True)
class BacktestResult:
    scorecard_id: int
    version: int
    status: str
    since: dt.date
    until: dt.date
    renewals: int
    bad: int
    churned: int
    auc: float | None
    message: str
    bands: tuple[BandFigures, ...]
    from_history: int


def roc_auc(risks: Sequence[float], bad: Sequence[bool]) -> float | None:
    """ROC AUC of ``risks`` for the ``bad`` cases by the rank formula (Mann–Whitney U):
    ``(R − n₁(n₁+1)/2) / (n₁·n₀)`` where R is the sum of the bad cases' ranks (tied values share
    their average rank, so a tie counts half). None without a bad or a good case."""
    positives = sum(1 for flag in bad if flag)
    negatives = len(bad) - positives
    if not positives or not negatives:
        return None
    order = sorted(range(len(risks)), key=lambda i: risks[i])
    ranks = [0.0] * len(risks)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and risks[order[end + 1]] == risks[order[start]]:
            end += 1
        average = (start + end) / 2 + 1  # ranks are 1-based
        for k in range(start, end + 1):
            ranks[order[k]] = average
        start = end + 1
    rank_sum = sum(rank for rank, flag in zip(ranks, bad, strict=True) if flag)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def backtest_window(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=WINDOW_DAYS), today


def _usage_signals(
    ids: list[int], days: list[dt.date], values: list[dict[str, Any]], signals: set[str]
) -> None:
    wanted = signals & USAGE_SIGNALS
    if not wanted:
        return
    periods: dict[int, list[tuple[dt.date, int, int, Decimal, int]]] = defaultdict(list)
    for position, *period in usage_history_as_of(
        account_ids=ids, days=days, lookback_days=USAGE_LOOKBACK_DAYS
    ):
        periods[position - 1].append(tuple(period))  # type: ignore[arg-type]
    for index, found in enumerate(values):
        if index in periods:
            usage = usage_values(periods[index], today=days[index])
        else:
            usage = {"support_tickets_30d": 0}  # as the live scoring: no periods, no tickets
        found.update({name: usage.get(name) for name in wanted})


def _rule_signals(
    rows: list[tuple[Any, ...]], days: list[dt.date], values: list[dict[str, Any]], signals: set[str]
) -> None:
    """Non-usage tier-rule signals, by the live code; an account renewing twice in the window is
    read in a second pass (``signals_for`` keys by account)."""
    wanted = (signals & set(SIGNALS)) - USAGE_SIGNALS - HEALTH_SIGNALS
    if not wanted:
        return
    policy = PolicySnapshot(id=None, version=0, tiers=())
    if "acv_within_pct_of_next_threshold" in wanted:
        from .evaluation import active_policy_snapshot

        policy = active_policy_snapshot()
    pending = list(range(len(rows)))
    while pending:
        seen: set[int] = set()
        layer: list[int] = []
        later: list[int] = []
        for index in pending:
            (later if rows[index][0] in seen else layer).append(index)
            seen.add(rows[index][0])
        facts = [AccountFacts(rows[i][0], Decimal(rows[i][3]), rows[i][4], rows[i][1]) for i in layer]
        found = signals_for(facts, policy=policy, needed=wanted, today=days[layer[0]])
        for index in layer:
            result = found[rows[index][0]]
            if "days_to_renewal" in result:
                result = {**result, "days_to_renewal": (rows[index][1] - days[index]).days}
            values[index].update({name: result.get(name) for name in wanted})
        pending = later


def _registered_signals(
    ids: list[int], days: list[dt.date], values: list[dict[str, Any]], signals: set[str]
) -> None:
    histories = health_signal_histories()
    for name in signals & set(registered_health_signals()):
        history = histories.get(name)
        found = history(ids, days) if history else [None] * len(ids)
        for index, value in enumerate(found):
            values[index][name] = value


def _cases_of_chunk(
    rows: list[tuple[Any, ...]], scorecard: Scorecard, *, use_stored: bool
) -> list[BacktestCase]:
    ids = [row[0] for row in rows]
    days = [row[1] - dt.timedelta(days=LEAD_DAYS) for row in rows]
    stored: dict[int, int] = {}
    if use_stored and scorecard.id is not None:
        stored = {
            position - 1: score
            for position, score in stored_scores_as_of(
                account_ids=ids, days=days, scorecard_id=scorecard.id, max_age_days=STORED_MAX_AGE_DAYS
            )
        }
    values: list[dict[str, Any]] = [{} for _ in rows]
    if len(stored) < len(rows):
        _usage_signals(ids, days, values, scorecard.signals)
        _rule_signals(rows, days, values, scorecard.signals)
        _registered_signals(ids, days, values, scorecard.signals)
    cases = []
    for index, (account_id, renewal_date, outcome, *_rest) in enumerate(rows):
        if index in stored:
            score = stored[index]
            cases.append(
                BacktestCase(account_id, renewal_date, outcome, score, scorecard.band_for(score), (), True)
            )
            continue
        health = compute_health(scorecard, values[index])
        points = tuple(int(item["points"]) for item in health.explanation)
        cases.append(
            BacktestCase(account_id, renewal_date, outcome, health.score, health.band, points, False)
        )
    return cases


def backtest_cases(*, scorecard: Scorecard, today: dt.date, use_stored: bool) -> list[BacktestCase]:
    """Every renewal of the window as ``scorecard`` would have scored it on its as-of day."""
    since, until = backtest_window(today)
    rows = list(
        RenewalOutcome.objects.filter(renewal_date__gte=since, renewal_date__lte=until)
        .order_by("renewal_date", "pk")
        .values_list("account_id", "renewal_date", "outcome", "arr_before", "account__lifecycle_stage")
    )
    cases: list[BacktestCase] = []
    for start in range(0, len(rows), CHUNK):
        cases.extend(_cases_of_chunk(rows[start : start + CHUNK], scorecard, use_stored=use_stored))
    return cases


def too_few_message(*, renewals: int, bad: int) -> str:
    """Why the outcomes cannot judge a scorecard ("" when they can)."""
    if renewals < MIN_OUTCOMES:
        return (
            f"Only {renewals} renewal{'' if renewals == 1 else 's'} recorded in the last 12 months: "
            f"a backtest needs at least {MIN_OUTCOMES} to say anything about churn."
        )
    if bad == 0:
        return (
            f"None of the {renewals} renewals of the last 12 months churned or contracted: "
            "nothing to separate."
        )
    if bad == renewals:
        return f"All {renewals} renewals of the last 12 months churned or contracted: nothing to separate."
    return ""


def health_backtest(*, scorecard: HealthScorecard, today: dt.date | None = None) -> BacktestResult:
    """The backtest of ``scorecard`` (draft or active) over the last 12 months of renewals."""
    today = today or timezone.localdate()
    snapshot = scorecard_snapshot(scorecard)
    use_stored = scorecard.status == ScorecardStatus.ACTIVE
    cases = backtest_cases(scorecard=snapshot, today=today, use_stored=use_stored)
    bad = sum(1 for case in cases if case.bad)
    churned = sum(1 for case in cases if case.outcome == RenewalOutcomeKind.CHURNED)
    message = too_few_message(renewals=len(cases), bad=bad)
    auc = None
    if not message:
        auc = roc_auc([100 - case.score for case in cases], [case.bad for case in cases])
    bands = tuple(
        BandFigures(
            band=band,
            label=BAND_LABELS[band],
            renewals=sum(1 for case in cases if case.band == band),
            churned=sum(
                1 for case in cases if case.band == band and case.outcome == RenewalOutcomeKind.CHURNED
            ),
            bad=sum(1 for case in cases if case.band == band and case.bad),
        )
        for band in BANDS
    )
    since, until = backtest_window(today)
    return BacktestResult(
        scorecard_id=scorecard.pk,
        version=scorecard.version,
        status=scorecard.status,
        since=since,
        until=until,
        renewals=len(cases),
        bad=bad,
        churned=churned,
        auc=auc,
        message=message,
        bands=bands,
        from_history=sum(1 for case in cases if case.from_history),
    )
