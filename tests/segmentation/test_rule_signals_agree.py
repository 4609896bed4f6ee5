"""The SQL that computes a review chunk's signals and evaluation keys agrees with the Python rules
it mirrors (``account_metrics.signals_for``, ``rule_inputs.evaluation_key``), and the rules
pre-filter skips only accounts the engine would leave exactly as they are: tiers, changes,
state and explanation.

Accounts and usage are generated: usage periods around the 30-, 90- and 120-day edges, seats
and users whose ratios fall exactly halfway between two rounded values (Python rounds those to
even, PostgreSQL's round() away from zero), no usage, zero seats, zero users.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, UsageSnapshot
from segmentation.account_metrics import signals_for
from segmentation.engine import PolicySnapshot
from segmentation.models import AccountTierState, TierChange, TierPolicy, TierReview
from segmentation.queries import rule_signals
from segmentation.rule_inputs import SQL_SIGNALS, compiles_to_sql, evaluation_key
from segmentation.services import evaluation, reviews
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

AGREEMENT = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# (users, seats) pairs whose utilisation is a tie at the third place (1/16 = 0.0625), and
# (earlier users, latest users) pairs whose trend is a tie at the first place (+0.25%, -0.75%).
seat_pairs = st.one_of(
    st.sampled_from([(1, 16), (3, 16), (5, 16), (1, 80), (0, 10), (10, 0), (7, 7), (9, 8)]),
    st.tuples(st.integers(0, 400), st.integers(0, 400)),
)
usage_period = st.tuples(
    st.integers(min_value=1, max_value=160),  # days before today (a new week comes today)
    st.integers(min_value=0, max_value=2000),  # active users
    st.integers(min_value=0, max_value=400),  # seats
    st.decimals(min_value=0, max_value=1, places=3, allow_nan=False),
    st.integers(min_value=0, max_value=30),  # tickets
)


@dataclass
class Generated:
    acv: Decimal
    lifecycle: str
    renewal_in: int | None
    health_score: int | None
    health_band: str
    periods: list[tuple[int, int, int, Decimal, int]]
    latest_pair: tuple[int, int] | None  # (users, seats) of the latest period
    trend_pair: tuple[int, int] | None  # (earlier, latest) active users 98 days apart


accounts = st.builds(
    Generated,
    acv=st.one_of(
        st.sampled_from([Decimal("15000"), Decimal("49999.99"), Decimal("50000"), Decimal("70000")]),
        st.decimals(min_value=0, max_value=400_000, places=2, allow_nan=False, allow_infinity=False),
    ),
    lifecycle=st.sampled_from(["onboarding", "adopting", "mature", "renewing", "churned"]),
    renewal_in=st.one_of(st.none(), st.integers(-30, 400)),
    health_score=st.one_of(st.none(), st.integers(0, 100)),
    health_band=st.sampled_from(["", "at_risk", "watch", "healthy"]),
    periods=st.lists(usage_period, max_size=8, unique_by=lambda p: p[0]),
    latest_pair=st.one_of(st.none(), seat_pairs),
    trend_pair=st.one_of(st.none(), st.sampled_from([(400, 401), (400, 397), (40, 41), (8, 9), (0, 5)])),
)


def _create(generated: Generated, today: dt.date) -> Account:
    account = AccountFactory(
        acv=generated.acv,
        lifecycle_stage=generated.lifecycle,
        renewal_date=None
        if generated.renewal_in is None
        else today + dt.timedelta(days=generated.renewal_in),
        health_score=generated.health_score,
        health_band=generated.health_band,
    )
    periods = {
        days: (users, seats, adoption, tickets) for days, users, seats, adoption, tickets in generated.periods
    }
    if generated.trend_pair:
        earlier, latest = generated.trend_pair
        periods[101] = (earlier, 500, Decimal("0.400"), 1)
        periods[3] = (latest, 500, Decimal("0.450"), 2)
    if generated.latest_pair:
        users, seats = generated.latest_pair
        periods[1] = (users, seats, Decimal("0.500"), 3)
    UsageSnapshot.objects.bulk_create(
        UsageSnapshot(
            account=account,
            period_start=today - dt.timedelta(days=days),
            active_users=users,
            licensed_seats=seats,
            feature_adoption=adoption,
            support_tickets=tickets,
        )
        for days, (users, seats, adoption, tickets) in periods.items()
    )
    return account


numeric_signals = sorted(SQL_SIGNALS - {"lifecycle_stage", "health_band"})


def _python_signals(policy: PolicySnapshot, ids: list[int], today: dt.date) -> dict[int, dict[str, Any]]:
    return signals_for(evaluation.load_facts(ids), policy=policy, needed=set(SQL_SIGNALS), today=today)


@AGREEMENT
@given(generated=st.lists(accounts, min_size=1, max_size=6))
def test_chunk_signals_in_sql_are_the_python_signals_to_the_last_digit(generated):
    today = timezone.localdate()
    with transaction.atomic():
        ids = [_create(g, today).pk for g in generated]
        policy = evaluation.active_policy_snapshot()
        rules = (
            {
                "name": "Every signal SQL computes",
                "match": "any",
                "when": [
                    *({"signal": name, "op": ">=", "value": 0} for name in numeric_signals),
                    {"signal": "lifecycle_stage", "op": "==", "value": "mature"},
                    {"signal": "health_band", "op": "==", "value": "watch"},
                ],
                "effect": {"type": "promote"},
            },
        )
        in_sql = rule_signals.chunk_signals(lower=ids[0] - 1, upper=ids[-1], rules=rules, today=today)
        in_python = _python_signals(policy, ids, today)
        for pk in ids:
            python = {name: in_python[pk][name] for name in SQL_SIGNALS}
            # Equal values with the same exponent: the explanation shows str() of them.
            assert {k: repr(v) for k, v in in_sql[pk].items()} == {k: repr(v) for k, v in python.items()}
        transaction.set_rollback(True)


THRESHOLDS: dict[str, list[Any]] = {
    "acv": [15000, 50000, 62000.5],
    "seat_utilisation": [0, 0.062, 0.063, 0.5, 0.9, 1],
    "active_users_trend_90d": [-10, 0, 0.2, 0.3, 2.5, 12.5],
    "feature_adoption": [0.25, 0.5],
    "support_tickets_30d": [0, 3, 10],
    "days_to_renewal": [0, 30, 90],
    "health_score": [40, 70],
}


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    signal = draw(st.sampled_from([*numeric_signals, "lifecycle_stage", "health_band"]))
    if signal == "lifecycle_stage":
        return {
            "signal": signal,
            "op": "in",
            "value": draw(st.sampled_from([["mature"], ["adopting", "renewing"]])),
        }
    if signal == "health_band":
        return {"signal": signal, "op": "==", "value": draw(st.sampled_from(["at_risk", "healthy"]))}
    op = draw(st.sampled_from([">=", ">", "<=", "<", "==", "between"]))
    values = THRESHOLDS[signal]
    if op == "between":
        low, high = sorted(draw(st.lists(st.sampled_from(values), min_size=2, max_size=2)))
        return {"signal": signal, "op": op, "value": [low, high]}
    return {"signal": signal, "op": op, "value": draw(st.sampled_from(values))}


effects = st.sampled_from(
    [
        {"type": "promote", "ranks": 1},
        {"type": "demote", "ranks": 1},
        {"type": "floor", "tier": "MM1"},
        {"type": "cap", "tier": "MM2"},
        {"type": "flag", "kind": "usage_drop", "days": 14},
    ]
)
rule_sets = st.lists(
    st.builds(
        lambda index, match, when, effect: {
            "name": f"Rule {index}",
            "match": match,
            "when": when,
            "effect": effect,
        },
        st.integers(1, 99),
        st.sampled_from(["all", "any"]),
        st.lists(conditions(), min_size=1, max_size=3),
        effects,
    ),
    min_size=1,
    max_size=3,
)


def _observable(ids: list[int]) -> dict[int, tuple[Any, ...]]:
    tiers = {
        row[0]: row[1:]
        for row in Account.objects.filter(id__in=ids).values_list(
            "id", "tier_code", "tier_name", "tier_rank", "tier_source", "tier_explanation"
        )
    }
    states = {
        row[0]: row[1:]
        for row in AccountTierState.objects.filter(account_id__in=ids).values_list(
            "account_id",
            "policy_tier_code",
            "pending_downgrade_reviews",
            "steps",
            "flags",
            "evaluated_signals",
        )
    }
    changes = {
        pk: sorted(TierChange.objects.filter(account_id=pk).values_list("to_code", "status", "explanation"))
        for pk in ids
    }
    return {pk: (tiers[pk], states.get(pk), changes[pk]) for pk in ids}


@AGREEMENT
@given(
    generated=st.lists(accounts, min_size=1, max_size=6),
    rules=rule_sets,
    moved=st.lists(st.sampled_from(["nothing", "new_week", "latest_users", "acv"]), min_size=6, max_size=6),
)
def test_the_rules_pre_filter_skips_only_accounts_the_engine_leaves_exactly_as_they_are(
    generated, rules, moved
):
    today = timezone.localdate()
    with transaction.atomic():
        TierPolicy.objects.filter(status="active").update(rules=rules)
        policy = evaluation.active_policy_snapshot()
        assert compiles_to_sql(policy.rules)
        ids = [_create(g, today).pk for g in generated]
        earlier = TierReview.objects.create(policy_id=policy.id, status="finished", is_open=None)
        evaluation.evaluate_batch(
            policy=policy, facts=evaluation.load_facts(ids), source="review", review_id=earlier.pk
        )
        # The evaluation key the engine kept is the one SQL computes from the same usage.
        keys = rule_signals.chunk_keys(lower=ids[0] - 1, upper=ids[-1], rules=policy.rules, today=today)
        python = _python_signals(policy, ids, today)
        assert keys == {pk: evaluation_key(policy.rules, python[pk]) for pk in ids}
        assert (
            dict(
                AccountTierState.objects.filter(account_id__in=ids).values_list(
                    "account_id", "evaluated_signals"
                )
            )
            == keys
        )

        # What moves before the next review: a new week of usage, the latest users, the ACV.
        for pk, what in zip(ids, moved, strict=False):
            if what == "new_week":
                UsageSnapshot.objects.create(
                    account_id=pk,
                    period_start=today,
                    active_users=37,
                    licensed_seats=40,
                    feature_adoption=Decimal("0.610"),
                    support_tickets=4,
                )
            elif what == "latest_users":
                latest = UsageSnapshot.objects.filter(account_id=pk).order_by("-period_start").first()
                if latest is not None:
                    UsageSnapshot.objects.filter(pk=latest.pk).update(active_users=latest.active_users + 1)
            elif what == "acv":
                Account.objects.filter(pk=pk).update(acv=Decimal("71000"))

        review = TierReview.objects.create(policy_id=policy.id)
        plan = reviews.chunk_plan(policy)
        assert plan.mode == "rules"
        found = reviews.candidate_facts(plan, ids[0] - 1, ids[-1], today)
        total, candidates = found.total, found.facts
        assert total == len(ids)
        skipped = set(ids) - {f.id for f in candidates}
        # An account where nothing moved is skipped (whatever its rules matched).
        assert {pk for pk, what in zip(ids, moved, strict=False) if what == "nothing"} <= skipped

        before = _observable(ids)
        with transaction.atomic():
            evaluation.evaluate_batch(
                policy=policy, facts=evaluation.load_facts(ids), source="review", review_id=review.pk
            )
            by_python = _observable(ids)
            transaction.set_rollback(True)
        unchanged = {pk for pk in ids if before[pk] == by_python[pk]}
        assert skipped <= unchanged, "skipped an account the engine would change"

        # The candidates, evaluated with the signals SQL computed, come out as with Python's.
        with transaction.atomic():
            evaluation.evaluate_batch(
                policy=policy,
                facts=candidates,
                source="review",
                review_id=review.pk,
                signals=found.signals,
                evaluation_keys=found.keys,
            )
            assert _observable(ids) == by_python
            transaction.set_rollback(True)
        transaction.set_rollback(True)
