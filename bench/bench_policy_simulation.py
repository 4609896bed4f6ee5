"""What-if simulation of a draft policy over 100,000 accounts (PostgreSQL).

Measured: ``tier_policy_simulate()`` of a draft that lowers the Enterprise threshold to 60,000
and adds a usage rule, over the first 100,000 accounts (the bench database may hold more), every
one of them with 26 weeks of usage as in a real book (``bench.usage_data``): per tier counts and
ACV before and after, the transition matrix and the moving accounts, writing nothing.

Baseline, same run, same accounts: streaming the same account columns through the ORM in the
same chunks, and the usage rows the rule reads for each chunk, doing nothing with them: the floor
of any evaluation in Python. The ratio says what evaluating (signals, rules, hysteresis) costs on
top of reading. Goal: at most 10x, and seconds in absolute terms.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.db import transaction

from bench.common import Context, Result

ORDER = 50
ACCOUNTS = 100_000
GOAL_RATIO = 10.0


def _draft() -> object:
    from segmentation.models import PolicyStatus, Tier, TierPolicy

    version = (TierPolicy.objects.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    draft = TierPolicy.objects.create(
        version=version,
        name="Bench draft: Enterprise from 60K, growth promotes",
        status=PolicyStatus.DRAFT,
        rules=[
            {
                "name": "Fast growth near the next threshold",
                "when": [
                    {"signal": "active_users_trend_90d", "op": ">=", "value": 30},
                    {"signal": "acv_within_pct_of_next_threshold", "op": "<=", "value": 20},
                ],
                "effect": {"type": "promote", "ranks": 1},
            }
        ],
    )
    for code, name, rank, touch, min_acv in (
        ("ENT", "Enterprise", 1, "high", "60000"),
        ("MM1", "Mid-Market Tier 1", 2, "hybrid", "45000"),
        ("MM2", "Mid-Market Tier 2", 3, "hybrid", "15000"),
        ("MM3", "Mid-Market Tier 3", 4, "digital", "0"),
    ):
        Tier.objects.create(
            policy=draft, code=code, name=name, rank=rank, touch_model=touch, min_acv=Decimal(min_acv)
        )
    return draft


def _read_baseline(accounts: object) -> tuple[float, int]:
    from django.utils import timezone

    from segmentation.account_metrics import ACCOUNT_FACT_FIELDS, USAGE_LOOKBACK_DAYS
    from segmentation.queries.evaluation import usage_history_of
    from segmentation.services.simulation import SIMULATION_CHUNK

    since = timezone.localdate() - dt.timedelta(days=USAGE_LOOKBACK_DAYS)
    started = time.perf_counter()
    last, usage_rows = 0, 0
    while True:
        rows = list(
            accounts.filter(id__gt=last).order_by("id").values_list(*ACCOUNT_FACT_FIELDS)[:SIMULATION_CHUNK]  # type: ignore[attr-defined]
        )
        if not rows:
            break
        usage_rows += len(usage_history_of(account_ids=[row[0] for row in rows], since=since))
        last = rows[-1][0]
    return time.perf_counter() - started, usage_rows


def run(ctx: Context) -> list[Result]:
    from accounts.models import Account
    from accounts.seeding import ensure_accounts
    from bench.usage_data import ensure_full_usage
    from segmentation.services import tier_policy_simulate

    ensure_accounts(ACCOUNTS)
    ids = Account.objects.order_by("id").values_list("id", flat=True)
    bottom, top = ids[0], ids[ACCOUNTS - 1]
    ensure_full_usage(low=bottom, high=top)
    accounts = Account.objects.filter(id__lte=top)
    with transaction.atomic():
        draft = _draft()
        (baseline, usage_rows), (again, _) = _read_baseline(accounts), _read_baseline(accounts)
        baseline = min(baseline, again)
        started = time.perf_counter()
        result = tier_policy_simulate(policy=draft, accounts=accounts)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)  # the draft is bench scaffolding
    return [
        Result(
            name="policy_simulation_100k",
            value=seconds,
            unit="s",
            ratio=seconds / baseline,
            goal=GOAL_RATIO,
            note=(
                f"{result.accounts:,} accounts, {result.moving:,} would move; "
                f"every account with 26 weeks of usage ({usage_rows:,} usage rows read by the rule); "
                f"baseline: reading the same account and usage rows {baseline:.2f} s"
            ),
        )
    ]
