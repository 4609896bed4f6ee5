"""What-if: run a (draft) policy over today's accounts without writing anything.

Streams accounts in primary-key chunks (server-side cursor), evaluates each with the same engine
as reviews (hysteresis against the current policy tier, as the next review would), and keeps only
aggregates plus the ids of moving accounts, so memory stays flat on large books.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import Account, TierSource

from .. import simulation as hooks
from ..account_metrics import ACCOUNT_FACT_FIELDS, AccountFacts, signals_for
from ..engine import PolicySnapshot, evaluate
from ..models import TierPolicy
from ..rules import signals_used

SIMULATION_CHUNK = 5000


@dataclass
class TierFigures:
    code: str
    name: str
    rank: int | None
    accounts_before: int = 0
    acv_before: Decimal = Decimal(0)
    accounts_after: int = 0
    acv_after: Decimal = Decimal(0)
    hours_before: float | None = None
    hours_after: float | None = None


@dataclass
class SimulationResult:
    policy_id: int
    policy_version: int
    accounts: int = 0
    tiers: list[TierFigures] = field(default_factory=list)
    # {(from_code, to_code): count}, on the policy's own tier (overrides aside)
    matrix: dict[tuple[str, str], int] = field(default_factory=dict)
    moving: int = 0
    # (account id, current tier code, tier code under the simulated policy), in id order
    moving_accounts: list[tuple[int, str, str]] = field(default_factory=list)
    hours_before_total: float | None = None
    hours_after_total: float | None = None

    def matrix_rows(self) -> list[dict[str, Any]]:
        return [{"from": f, "to": t, "accounts": n} for (f, t), n in sorted(self.matrix.items())]


def tier_policy_simulate(
    *, policy: TierPolicy, today: dt.date | None = None, accounts: QuerySet[Account] | None = None
) -> SimulationResult:
    """Per tier count and ACV before/after, the transition matrix and the moving accounts
    (page through them with ``selectors.simulation_moving_accounts``). Writes nothing.

    ``accounts`` narrows the simulation (e.g. one region); by default every account."""
    snapshot = PolicySnapshot.from_policy(TierPolicy.objects.prefetch_related("tiers").get(pk=policy.pk))
    today = today or timezone.localdate()
    needed = signals_used(list(snapshot.rules))
    result = SimulationResult(policy_id=policy.pk, policy_version=policy.version)
    before: dict[str, list[Any]] = defaultdict(lambda: ["", None, 0, Decimal(0)])
    after: Counter[str] = Counter()
    acv_after: dict[str, Decimal] = defaultdict(Decimal)
    matrix: Counter[tuple[str, str]] = Counter()
    last = 0
    while True:
        rows = list(
            (accounts if accounts is not None else Account.objects.all())
            .filter(id__gt=last)
            .order_by("id")
            .annotate(policy_tier_code=F("tier_state__policy_tier_code"))
            .values_list(*ACCOUNT_FACT_FIELDS, "policy_tier_code")[:SIMULATION_CHUNK]
        )
        if not rows:
            break
        facts = [AccountFacts(*row[:-1]) for row in rows]
        states = {row[0]: row[-1] for row in rows}
        last = facts[-1].id
        values = signals_for(facts, policy=snapshot, needed=needed, today=today) if needed else None
        for account in facts:
            current = states.get(account.id) or account.tier_code
            outcome = evaluate(
                snapshot,
                acv=account.acv,
                signals=values[account.id] if values else {"acv": account.acv},
                previous_policy_code=current,
                pending_downgrade_reviews=0,
                counts_as_review=True,
                explain=False,
            )
            slot = before[account.tier_code]
            slot[0], slot[1] = account.tier_name, account.tier_rank
            slot[2] += 1
            slot[3] += account.acv
            # Overridden accounts keep their override whatever the policy says.
            new_code = (
                account.tier_code if account.tier_source == TierSource.OVERRIDE else outcome.policy_tier.code
            )
            after[new_code] += 1
            acv_after[new_code] += account.acv
            matrix[(account.tier_code, new_code)] += 1
            if new_code != account.tier_code:
                result.moving_accounts.append((account.id, account.tier_code, new_code))
        result.accounts += len(facts)
    names = {t.code: (t.name, t.rank) for t in snapshot.tiers}
    codes = [t.code for t in snapshot.tiers] + sorted(set(before) - {t.code for t in snapshot.tiers})
    for code in codes:
        name, rank = names.get(
            code, (before[code][0] if code in before else code, before[code][1] if code in before else None)
        )
        b = before.get(code, ["", None, 0, Decimal(0)])
        result.tiers.append(
            TierFigures(code, name or "(no tier)", rank, b[2], b[3], after[code], acv_after[code])
        )
    hours_before = hooks.estimate_hours({code: b[2] for code, b in before.items()})
    hours_after = hooks.estimate_hours(dict(after))
    if hours_before is not None and hours_after is not None:
        for figures in result.tiers:
            figures.hours_before = hours_before.get(figures.code, 0.0)
            figures.hours_after = hours_after.get(figures.code, 0.0)
        result.hours_before_total = sum(hours_before.values())
        result.hours_after_total = sum(hours_after.values())
    result.matrix = dict(matrix)
    result.moving = len(result.moving_accounts)
    return result
