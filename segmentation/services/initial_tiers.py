"""The initial tiering: every account without a tier gets its first one (source ``initial``).

Used after demo data is seeded, when a whole book has no tier yet. A fresh account (no tier, no
tier state, no active override, no open proposal) comes out of the engine depending only on its
ACV and, under rules, on its signals through the evaluation key (``rule_inputs``): so each
distinct (ACV, key) is evaluated once by the engine, and one statement per chunk writes every
account's tier, explanation, state and TierChange from those outcomes
(``queries.initial_tiers``). The explanation is the engine's, word for word; the SQL only copies
it. Accounts that are not fresh, and every account under a policy whose rules SQL does not
compute, go through ``evaluation.evaluate_batch`` as any other evaluation does.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import Account

from ..engine import PolicySnapshot, evaluate
from ..models import ChangeSource, PolicyStatus, TierChange, TierPolicy
from ..queries import initial_tiers as initial_sql
from ..queries import rule_signals as rule_signals_sql
from ..rule_inputs import compiles_to_sql, evaluation_key
from ..signals import tier_changes_applied
from .evaluation import evaluate_batch, load_facts

# Accounts per chunk (one statement each): an ACV-only chunk is one scan and one write statement;
# a rules chunk aggregates its accounts' usage as a review chunk does.
ACV_CHUNK_IDS = 50_000
RULES_CHUNK_IDS = 20_000
# Accounts per tier_changes_applied signal: the receivers queue one task per signal, and a task's
# arguments stay a few tens of kB.
SIGNAL_BATCH = 5_000
# Accounts evaluated one by one per batch (those that are not fresh; every one under rules SQL
# does not compute).
PYTHON_BATCH = 5_000


def tier_assign_initial(*, today: dt.date | None = None) -> int:
    """Give every account without a tier its first tier, chunk by chunk, in one transaction.
    Returns how many accounts got a tier."""
    policy = PolicySnapshot.from_policy(
        TierPolicy.objects.prefetch_related("tiers").get(status=PolicyStatus.ACTIVE)
    )
    today = today or timezone.localdate()
    bounds = Account.objects.filter(tier_code="").aggregate(low=Min("id"), top=Max("id"))
    if bounds["top"] is None:
        return 0
    in_sql = compiles_to_sql(policy.rules)
    chunk_ids = RULES_CHUNK_IDS if policy.rules else ACV_CHUNK_IDS
    assigned = 0
    # One transaction: the work the tiers hand on (coverage, capacity, the demo's history) starts
    # once the whole book has its tiers, instead of competing with the chunks still being written.
    with transaction.atomic():
        for lower in range(bounds["low"] - 1, bounds["top"], chunk_ids):
            assigned += _assign_chunk(policy, lower, min(lower + chunk_ids, bounds["top"]), today, in_sql)
    return assigned


def _assign_chunk(policy: PolicySnapshot, lower: int, upper: int, today: dt.date, in_sql: bool) -> int:
    fresh, others = initial_sql.untiered_accounts(lower=lower, upper=upper)
    if not in_sql:
        others = sorted([pk for pk, _ in fresh] + others)
        fresh = []
    assigned = 0
    if fresh:
        assigned += _assign_fresh(policy, fresh, lower, upper, today)
    for start in range(0, len(others), PYTHON_BATCH):
        facts = load_facts(others[start : start + PYTHON_BATCH])
        outcome = evaluate_batch(policy=policy, facts=facts, source=ChangeSource.INITIAL, today=today)
        assigned += outcome.applied
    return assigned


def _engine_inputs(
    rules: tuple[dict[str, Any], ...], acv: Decimal, signals: dict[str, Any]
) -> tuple[Any, ...]:
    """What a fresh account's outcome depends on: its ACV and, for each condition of each rule,
    the value the steps show where the rule matched and the condition held (the evaluation key,
    with each value as the engine renders it: 0.85 and 0.850 are one key but two texts)."""
    key = evaluation_key(rules, signals)
    shown = []
    index = 0
    for rule in rules:
        for condition in rule["when"]:
            value = signals.get(condition["signal"]) if key[index] is not None else None
            shown.append(None if value is None else (type(value).__name__, str(value)))
            index += 1
    return (str(acv), tuple(shown))


def _assign_fresh(
    policy: PolicySnapshot, fresh: list[tuple[int, Decimal]], lower: int, upper: int, today: dt.date
) -> int:
    """Evaluate each distinct outcome of the fresh accounts once and write them all set-based."""
    chunk_signals: dict[int, dict[str, Any]] = {}
    if policy.rules:
        chunk_signals = rule_signals_sql.chunk_signals(
            lower=lower, upper=upper, rules=policy.rules, today=today
        )
    outcome_of: dict[tuple[Any, ...], int] = {}
    outcomes: list[tuple[Any, ...]] = []
    assignments: list[tuple[int, int]] = []
    for account_id, acv in fresh:
        signals = chunk_signals[account_id] if policy.rules else {"acv": acv}
        inputs = _engine_inputs(policy.rules, acv, signals)
        number = outcome_of.get(inputs)
        if number is None:
            number = outcome_of[inputs] = len(outcomes)
            result = evaluate(policy, acv=acv, signals=signals)
            outcomes.append(
                (
                    number,
                    result.effective_code,
                    result.effective_name,
                    result.effective_rank,
                    result.sentence,
                    json.dumps(result.steps),
                    json.dumps(result.flags),
                    result.policy_tier.code,
                    result.policy_tier.rank,
                    json.dumps(evaluation_key(policy.rules, signals) if policy.rules else []),
                )
            )
        assignments.append((account_id, number))
    written = initial_sql.initial_tiers_write(
        outcomes=outcomes,
        assignments=assignments,
        policy_id=policy.id,
        fingerprint=policy.fingerprint,
        source=ChangeSource.INITIAL.value,
        now=timezone.now(),
    )
    # Higher apps queue their follow-up (coverage, capacity, webhooks) in this transaction.
    for start in range(0, len(written), SIGNAL_BATCH):
        batch = written[start : start + SIGNAL_BATCH]
        tier_changes_applied.send(
            sender=TierChange,
            account_ids=[account_id for _, account_id in batch],
            change_ids=[change_id for change_id, _ in batch],
            source=ChangeSource.INITIAL,
            review_id=None,
        )
    return len(written)
