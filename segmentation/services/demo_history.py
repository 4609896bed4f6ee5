"""Segmentation's share of the demo's past, once tiers and the engagement history exist.

The demo seed records two years of renewal outcomes (``accounts.seeding_history``); for the
retention panel, the override evidence and the health backtest to read them, segmentation's
history has to reach as far back:

- the initial tiers are dated at each account's contract start (the tier it held at each renewal);
- a few accounts that renewed in the last year had an override in force on their renewal day,
  with a reason that fits how they renewed (at risk before a churn, expansion potential before
  an expansion, ...), so overrides can be judged against their policy-tier peers;
- health is computed for the book today (the real scorecard), then a plausible past is drawn
  back from it: daily for the last 30 days and weekly over the last 90 (weekly only beyond
  ``DAILY_HISTORY_ACCOUNTS`` accounts, so a seed of 100,000 accounts stays quick), following
  the account's usage trend (a declining account was healthier before and drifted down), plus
  weekly points over the 15 months before today for accounts with an outcome in the last year
  (the score 90 days before the renewal: lower before a churn or contraction), up to the churn
  date for churned accounts.

Safe to run twice: it does nothing when health history before today already exists.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import Avg, Q
from django.utils import timezone

from accounts.models import Account, LifecycleStage, RenewalOutcome, RenewalOutcomeKind, UsageSnapshot
from accounts.queries import rows_copy
from accounts.seeding import DEMO_CRM_SOURCE

from ..health import Scorecard
from ..models import AccountHealth, OverrideReason, OverrideStatus, Tier, TierOverride
from ..queries.demo_history import initial_tiers_date_at_contract_start
from .health import active_scorecard_snapshot, health_compute_book

RECENT_DAYS = 90
# Daily points for the last 30 days, weekly before: the trend reads the same and a 2,000-account
# demo writes ~80k rows instead of 180k. Beyond DAILY_HISTORY_ACCOUNTS accounts, weekly only.
DAILY_DAYS = 30
DAILY_HISTORY_ACCOUNTS = 3_000
# 15 months and a week: a weekly point on or before 90 days before any renewal of the last year.
OUTCOME_HISTORY_DAYS = 365 + 90 + 7
OVERRIDE_SHARE = 0.08
SUMMARY = "Demo history, drawn from the account's usage trend."
# Points over the usage window (26 weeks) per unit of change in active users, and their bounds.
TREND_POINTS = 50
TREND_POINTS_MIN, TREND_POINTS_MAX = -30, 25
OUTCOME_SHADE = {
    RenewalOutcomeKind.CHURNED.value: -22,
    RenewalOutcomeKind.CONTRACTED.value: -12,
    RenewalOutcomeKind.EXPANDED.value: 6,
    RenewalOutcomeKind.RENEWED.value: 0,
}
OVERRIDE_REASONS = {
    RenewalOutcomeKind.CHURNED.value: (OverrideReason.AT_RISK, OverrideReason.SALES_COMMITMENT),
    RenewalOutcomeKind.CONTRACTED.value: (OverrideReason.AT_RISK, OverrideReason.LEGACY_RELATIONSHIP),
    RenewalOutcomeKind.EXPANDED.value: (OverrideReason.EXPANSION_POTENTIAL, OverrideReason.STRATEGIC_LOGO),
    RenewalOutcomeKind.RENEWED.value: (
        OverrideReason.EXECUTIVE_SPONSOR,
        OverrideReason.STRATEGIC_LOGO,
        OverrideReason.LEGACY_RELATIONSHIP,
    ),
}


def demo_history_create(*, seed: int, today: dt.date | None = None) -> int:
    """Date the initial tiers, add past overrides and draw health history for the demo accounts.

    Returns how many health rows were written (0 when the history was already there).
    """
    today = today or timezone.localdate()
    if AccountHealth.objects.filter(date__lt=today).exists():
        return 0
    with transaction.atomic():
        _date_initial_tiers()
        _past_overrides(random.Random(f"csplatform-demo-overrides:{seed}"), today)
    health_compute_book(today=today)
    scorecard = active_scorecard_snapshot()
    if scorecard is None or scorecard.id is None:
        return 0
    with transaction.atomic():
        return rows_copy(
            table=AccountHealth._meta.db_table,
            columns=[
                "account_id",
                "date",
                "score",
                "band",
                "scorecard_id",
                "explanation",
                "summary",
                "computed_at",
            ],
            # A list, not a generator: the rows' inputs are read before COPY holds the connection.
            rows=list(_health_rows(random.Random(f"csplatform-demo-health:{seed}"), scorecard, today)),
        )


def _demo_accounts() -> Any:
    return Account.objects.filter(crm_source=DEMO_CRM_SOURCE)


def _date_initial_tiers() -> None:
    """An initial tier was the account's tier from its contract start on."""
    initial_tiers_date_at_contract_start(crm_source=DEMO_CRM_SOURCE, at=dt.time(9))


def _past_overrides(rng: random.Random, today: dt.date) -> None:
    """Overrides that were in force on some renewal days of the last year (expired since)."""
    year_ago = today - dt.timedelta(days=365)
    outcomes = (
        RenewalOutcome.objects.filter(account__crm_source=DEMO_CRM_SOURCE, renewal_date__gte=year_ago)
        .exclude(account__tier_code="")
        .exclude(account__csm=None)
        .order_by("account_id", "renewal_date")
        .values_list("account_id", "renewal_date", "outcome", "account__tier_code", "account__csm_id")
    )
    tiers = {t.code: t for t in Tier.objects.filter(policy__status="active")}
    by_rank = {t.rank: t for t in tiers.values()}
    overrides, seen = [], set()
    for account_id, renewal_date, outcome, tier_code, csm_id in outcomes:
        if account_id in seen or rng.random() >= OVERRIDE_SHARE or tier_code not in tiers:
            continue
        expires_on = renewal_date + dt.timedelta(days=rng.randint(0, 40))
        if expires_on >= today:
            continue
        seen.add(account_id)
        policy_tier = tiers[tier_code]
        # At risk: more attention than the policy gives (one rank up); otherwise mostly up too.
        target = by_rank.get(policy_tier.rank - 1) or by_rank.get(policy_tier.rank + 1) or policy_tier
        reasons = OVERRIDE_REASONS[outcome]
        activated = timezone.make_aware(dt.datetime.combine(expires_on - dt.timedelta(days=90), dt.time(10)))
        overrides.append(
            TierOverride(
                account_id=account_id,
                tier_code=target.code,
                tier_name=target.name,
                tier_rank=target.rank,
                policy_tier_code=policy_tier.code,
                policy_tier_rank=policy_tier.rank,
                reason=reasons[int(rng.random() * len(reasons))],
                note="Agreed with CS Leadership at the account review.",
                expires_on=expires_on,
                status=OverrideStatus.EXPIRED,
                requested_by_id=csm_id,
                activated_at=activated,
                decided_at=activated,
            )
        )
    TierOverride.objects.bulk_create(overrides, batch_size=1000)


def _usage_trend_points() -> dict[int, float]:
    """Per account: how many health points its usage trend moved it over the usage weeks."""
    weeks = sorted(set(UsageSnapshot.objects.values_list("period_start", flat=True).distinct()))
    if len(weeks) < 8:
        return {}
    early = dict(
        UsageSnapshot.objects.filter(period_start__in=weeks[:4])
        .values("account_id")
        .annotate(users=Avg("active_users"))
        .values_list("account_id", "users")
    )
    late = (
        UsageSnapshot.objects.filter(period_start__in=weeks[-4:])
        .values("account_id")
        .annotate(users=Avg("active_users"))
    )
    points = {}
    for row in late.values_list("account_id", "users"):
        before = early.get(row[0]) or 0
        if before:
            change = TREND_POINTS * (float(row[1]) / float(before) - 1)
            points[row[0]] = max(TREND_POINTS_MIN, min(TREND_POINTS_MAX, change))
    return points


def _band(scorecard: Scorecard, score: int) -> str:
    if score >= scorecard.healthy_from:
        return "healthy"
    return "watch" if score >= scorecard.watch_from else "at_risk"


def _health_rows(rng: random.Random, scorecard: Scorecard, today: dt.date) -> Iterator[tuple[Any, ...]]:
    trend = _usage_trend_points()
    outcomes: dict[int, list[tuple[dt.date, str]]] = {}
    for account_id, day, outcome in RenewalOutcome.objects.filter(
        account__crm_source=DEMO_CRM_SOURCE, renewal_date__gte=today - dt.timedelta(days=730)
    ).values_list("account_id", "renewal_date", "outcome"):
        outcomes.setdefault(account_id, []).append((day, outcome))
    year_ago = today - dt.timedelta(days=365)
    now = timezone.now()
    # Live accounts: anchored at today's computed score. Churned: at their churn date, low.
    anchors = _demo_accounts().filter(
        Q(health_on=today) | Q(lifecycle_stage=LifecycleStage.CHURNED, renewal_date__gte=year_ago)
    )
    rows = anchors.order_by("pk").values_list("pk", "lifecycle_stage", "renewal_date", "health_score")
    for position, (account_id, stage, renewal_date, score) in enumerate(rows):
        per_day = trend.get(account_id, 0.0) / 182
        churned = stage == LifecycleStage.CHURNED
        anchor_day = renewal_date if churned else today
        anchor = 45 + rng.random() * 25 if churned else float(score)
        dates = _history_dates(
            anchor_day,
            daily=not churned and position < DAILY_HISTORY_ACCOUNTS,
            long=churned or any(day >= year_ago for day, _ in outcomes.get(account_id, [])),
            including_anchor=churned,
        )
        for day in dates:
            back = (anchor_day - day).days
            value = anchor - per_day * min(back, 182)
            for renewal_day, outcome in outcomes.get(account_id, []):
                # Trouble (or promise) shows in the half year before a renewal, not after it.
                if 0 <= (renewal_day - day).days <= 180:
                    value += OUTCOME_SHADE[outcome]
            if churned:
                value += min(back, 365) / 365 * 35  # healthier the further from the churn
            value += rng.uniform(-3, 3)
            points = max(0, min(100, round(value)))
            yield (
                account_id,
                day,
                points,
                _band(scorecard, points),
                scorecard.id,
                json.dumps([]),
                SUMMARY,
                now,
            )


def _history_dates(anchor_day: dt.date, *, daily: bool, long: bool, including_anchor: bool) -> list[dt.date]:
    """The dates up to ``anchor_day`` that get a health row (today's own row is computed)."""
    days = set(range(7, RECENT_DAYS + 1, 7)) | ({0} if including_anchor else set())
    if daily:
        days.update(range(1, DAILY_DAYS + 1))
    if long:
        days.update(range(RECENT_DAYS + 7, OUTCOME_HISTORY_DAYS + 1, 7))
    return [anchor_day - dt.timedelta(days=back) for back in sorted(days)]


# A month ago the book was reviewed; since then a few accounts grew or shrank at the CRM, and
# today's review moved them: the migrations panel has something true to show.
DEMO_REVIEW_DAYS_AGO = 30
DEMO_ACV_MOVE_SHARE = 0.04


def demo_reviews_create(*, seed: int) -> int:
    """Two finished reviews with ACV changes between them; returns the tier changes of the second.

    Does nothing when a review exists (safe to run twice)."""
    from django.db.models import F

    from ..models import ReviewTrigger, TierChange, TierPolicy, TierReview
    from .reviews import tier_review_run

    if TierReview.objects.exists():
        return 0
    policy = TierPolicy.objects.get(status="active")
    first = TierReview.objects.create(
        policy=policy, trigger=ReviewTrigger.SCHEDULE, accounts_total=_demo_accounts().count()
    )
    tier_review_run(review_id=first.pk)
    month_ago = timezone.now() - dt.timedelta(days=DEMO_REVIEW_DAYS_AGO)
    TierReview.objects.filter(pk=first.pk).update(
        created_at=month_ago, started_at=month_ago, heartbeat_at=month_ago, finished_at=month_ago
    )
    rng = random.Random(f"csplatform-demo-reviews:{seed}")
    ids = list(_demo_accounts().exclude(lifecycle_stage=LifecycleStage.CHURNED).values_list("pk", flat=True))
    movers = rng.sample(ids, k=min(len(ids), max(1, int(len(ids) * DEMO_ACV_MOVE_SHARE))))
    half = len(movers) // 2
    with transaction.atomic():
        # Expansions across a threshold, and contractions (both as a CRM sync would write them).
        Account.objects.filter(pk__in=movers[:half]).update(acv=F("acv") * 3)
        Account.objects.filter(pk__in=movers[half:]).update(acv=F("acv") / 4)
    second = TierReview.objects.create(
        policy=policy, trigger=ReviewTrigger.SCHEDULE, accounts_total=_demo_accounts().count()
    )
    tier_review_run(review_id=second.pk)
    return TierChange.objects.filter(review_id=second.pk).count()
