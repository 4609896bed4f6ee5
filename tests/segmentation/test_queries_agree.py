"""The SQL in segmentation/queries agrees with the Python rules it stands in for.

- The review's pre-filter (``queries.reviews.review_candidates`` behind
  ``services.reviews.candidate_facts``) skips exactly the accounts the engine would leave as they
  are: evaluating the whole chunk in Python (``evaluate_batch``, the path policies with rules take)
  is the reference.
- The cost to serve and quadrant of many accounts (``queries.economics``) equal
  ``economics.annual_cost_to_serve`` and ``economics.quadrant_for`` account by account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from segmentation import engine
from segmentation.economics import CostRates, annual_cost_to_serve, in_cents, quadrant_for
from segmentation.engine import PolicySnapshot, evaluate
from segmentation.models import (
    AccountTierState,
    ChangeStatus,
    OverrideReason,
    OverrideStatus,
    Tier,
    TierChange,
    TierOverride,
    TierPolicy,
    TierReview,
)
from segmentation.queries import economics as economics_sql
from segmentation.services import economics as economics_services
from segmentation.services import evaluation, reviews
from segmentation.services.proposals import tier_proposal_accept
from tests.factories import AccountFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db

THRESHOLDS = (Decimal("70000"), Decimal("50000"), Decimal("15000"))
CENT = Decimal("0.01")
AGREEMENT = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ACVs on, just beside and a hysteresis band below each threshold, and anywhere else.
near_thresholds = st.sampled_from(
    [
        value
        for threshold in THRESHOLDS
        for base in (threshold, threshold * Decimal("0.9"))
        for value in (base - CENT, base, base + CENT)
    ]
    + [Decimal("0"), Decimal("999999.99"), Decimal("1000000"), Decimal("1234567.50")]
)
any_acv = st.decimals(min_value=0, max_value=3_000_000, places=2, allow_nan=False, allow_infinity=False)
acvs = st.one_of(near_thresholds, any_acv)


@dataclass
class History:
    """How an account got to where a review finds it: tiered by the engine (or not), then touched."""

    acv: Decimal
    # reviewed: evaluated by the engine, nothing since | stale_acv: its ACV changed since |
    # rewritten: another service wrote its tier since | older_engine: evaluated by an earlier
    # release | held: hysteresis held a downgrade | untiered: never evaluated | hand_tiered: a
    # tier without an evaluation | override: an active override | rereviewed: evaluated at another
    # ACV, then by a review at this one (hysteresis may be counting a downgrade)
    kind: str
    other_acv: Decimal
    pending: int
    open_proposal: bool
    override_expired: bool


KINDS = [
    "reviewed",
    "reviewed",
    "rereviewed",
    "rereviewed",
    "stale_acv",
    "rewritten",
    "older_engine",
    "held",
    "untiered",
    "hand_tiered",
    "override",
]
histories = st.builds(
    History,
    acv=acvs,
    kind=st.sampled_from(KINDS),
    other_acv=acvs,
    pending=st.integers(min_value=1, max_value=2),
    open_proposal=st.booleans(),
    override_expired=st.booleans(),
)


def _evaluate(
    policy: PolicySnapshot, account: Account, source: str = "initial", review_id: int | None = None
) -> None:
    with transaction.atomic():
        evaluation.evaluate_batch(
            policy=policy, facts=evaluation.load_facts([account.pk]), source=source, review_id=review_id
        )


def _make_account(history: History, tiered_by: PolicySnapshot, user: Any, today: dt.date) -> Account:
    policy = tiered_by
    if history.kind == "untiered":
        return AccountFactory(acv=history.acv)
    if history.kind == "hand_tiered":
        result = evaluate(policy, acv=history.acv, signals={})
        return AccountFactory(
            acv=history.acv,
            tier_code=result.effective_code,
            tier_name=result.effective_name,
            tier_rank=result.effective_rank,
            tier_source="policy",
            tier_explanation=result.sentence,
        )
    if history.kind == "rereviewed":
        account = AccountFactory(acv=history.other_acv)
        _evaluate(policy, account)
        Account.objects.filter(pk=account.pk).update(acv=history.acv)
        earlier_review = TierReview.objects.create(policy_id=policy.id, status="finished", is_open=None)
        _evaluate(policy, account, source="review", review_id=earlier_review.pk)
    else:
        account = AccountFactory(acv=history.acv)
        _evaluate(policy, account)
    if history.kind == "stale_acv" and history.other_acv == history.acv:
        history.kind = "reviewed"  # the same ACV again: nothing changed
    if history.kind == "stale_acv":
        Account.objects.filter(pk=account.pk).update(acv=history.other_acv)
    elif history.kind == "rewritten":
        Account.objects.filter(pk=account.pk).update(tier_updated_at=timezone.now() + dt.timedelta(seconds=1))
    elif history.kind == "older_engine":
        AccountTierState.objects.filter(account=account).update(evaluated_with="an-earlier-release")
    elif history.kind == "held":
        # A downgrade hysteresis held back: the account keeps the tier above what the policy says.
        state = AccountTierState.objects.get(account=account)
        above = policy.shift(policy.by_code(state.policy_tier_code) or policy.tiers[0], -1)
        if above.code == state.policy_tier_code:  # already at the top: nothing to hold
            history.kind = "reviewed"
        else:
            Account.objects.filter(pk=account.pk).update(
                tier_code=above.code, tier_name=above.name, tier_rank=above.rank
            )
            AccountTierState.objects.filter(account=account).update(pending_downgrade_reviews=history.pending)
    account.refresh_from_db()
    if history.open_proposal:
        target = policy.shift(policy.by_code(account.tier_code) or policy.tiers[0], 1)
        TierChange.objects.create(
            account=account,
            policy_id=policy.id,
            from_code=account.tier_code,
            from_name=account.tier_name,
            from_rank=account.tier_rank,
            to_code=target.code,
            to_name=target.name,
            to_rank=target.rank,
            explanation="proposed",
            source="review",
            status=ChangeStatus.PROPOSED,
        )
    if history.kind == "override":
        Account.objects.filter(pk=account.pk).update(tier_source="override")
        TierOverride.objects.create(
            account=account,
            tier_code=account.tier_code,
            tier_name=account.tier_name,
            tier_rank=account.tier_rank,
            reason=OverrideReason.values[0],
            note="Escalation open",
            expires_on=today + dt.timedelta(days=-1 if history.override_expired else 30),
            status=OverrideStatus.ACTIVE,
            requested_by=user,
        )
    return account


def _observable(account_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Everything a review may change about an account: its tier columns, its changes, its overrides,
    and what its state remembers for hysteresis."""
    tiers = {
        row[0]: row[1:]
        for row in Account.objects.filter(id__in=account_ids).values_list(
            "id", "tier_code", "tier_name", "tier_rank", "tier_source", "tier_explanation"
        )
    }
    states = dict(
        AccountTierState.objects.filter(account_id__in=account_ids).values_list(
            "account_id", "policy_tier_code"
        )
    )
    changes = {
        account_id: sorted(
            TierChange.objects.filter(account_id=account_id).values_list("id", "status", "to_code")
        )
        for account_id in account_ids
    }
    overrides = {
        account_id: sorted(TierOverride.objects.filter(account_id=account_id).values_list("id", "status"))
        for account_id in account_ids
    }
    return {pk: (tiers[pk], states.get(pk), changes[pk], overrides[pk]) for pk in account_ids}


def _unchanged_by_python(policy: PolicySnapshot, account_ids: list[int], review_id: int) -> set[int]:
    """The accounts that evaluating the whole chunk in Python leaves as they are (rolled back)."""
    before = _observable(account_ids)
    with transaction.atomic():
        evaluation.evaluate_batch(
            policy=policy,
            facts=evaluation.load_facts(account_ids),
            source="review",
            review_id=review_id,
        )
        after = _observable(account_ids)
        transaction.set_rollback(True)
    return {pk for pk in account_ids if before[pk] == after[pk]}


@AGREEMENT
@given(
    histories=st.lists(histories, min_size=1, max_size=8),
    band=st.sampled_from([Decimal("0.100"), Decimal("0")]),
    required_reviews=st.sampled_from([0, 2]),
    renamed=st.booleans(),
)
def test_the_review_pre_filter_skips_exactly_the_accounts_the_engine_leaves_alone(
    lena, histories, band, required_reviews, renamed
):
    today = timezone.localdate()
    with transaction.atomic():
        TierPolicy.objects.filter(status="active").update(
            hysteresis_band=band, downgrade_after_consecutive_reviews=required_reviews
        )
        model = TierPolicy.objects.prefetch_related("tiers").get(status="active")
        tiered_by = PolicySnapshot.from_policy(model)
        accounts = [(history, _make_account(history, tiered_by, lena, today)) for history in histories]
        if renamed:  # the policy was edited after the accounts were tiered
            Tier.objects.filter(policy=model, code="MM2").update(name="Mid-Market Two")
            model = TierPolicy.objects.prefetch_related("tiers").get(status="active")
        policy = PolicySnapshot.from_policy(model)
        ids = sorted(account.pk for _, account in accounts)
        review = TierReview.objects.create(policy=model)
        plan = reviews.chunk_plan(policy)

        found = reviews.candidate_facts(plan, ids[0] - 1, ids[-1], today)
        total, candidates = found.total, found.facts
        skipped = set(ids) - {facts.id for facts in candidates}
        unchanged = _unchanged_by_python(policy, ids, review.pk)

        assert total == len(ids)
        assert skipped <= unchanged, "skipped an account the engine would change"
        # Skipped: exactly the accounts the engine evaluated under this very policy, untouched since.
        # (An account a review evaluated at its current ACV: skipped exactly when the engine would
        # leave it as it is, hysteresis included.)
        # A review that held a downgrade back (the ACV within the hysteresis band below the tier's
        # threshold) leaves the account as it is, but what it holds must be looked at again at the
        # next review: the pre-filter skips only an account whose tier is the policy's own.
        held_tiers = dict(Account.objects.filter(id__in=ids).values_list("id", "tier_code"))
        holding_nothing = {
            state.account_id
            for state in AccountTierState.objects.filter(account_id__in=ids)
            if state.pending_downgrade_reviews == 0 and state.policy_tier_code == held_tiers[state.account_id]
        }
        expected = {
            account.pk
            for history, account in accounts
            if not history.open_proposal
            and not renamed
            and (
                history.kind == "reviewed"
                or (history.kind == "rereviewed" and account.pk in unchanged & holding_nothing)
            )
        }
        assert skipped == expected, [(h.kind, h.open_proposal, a.pk) for h, a in accounts]
        transaction.set_rollback(True)


def test_the_pre_filter_skips_an_account_the_engine_tiered_and_not_one_a_proposal_moved_since(db, lena):
    policy = evaluation.active_policy_snapshot()
    kept, accepted = AccountFactory(acv=Decimal("62000.50")), AccountFactory(acv=Decimal("62000.50"))
    with transaction.atomic():
        evaluation.evaluate_batch(
            policy=policy, facts=evaluation.load_facts([kept.pk, accepted.pk]), source="initial"
        )
    accepted.refresh_from_db()
    change = TierChange.objects.create(
        account=accepted,
        policy_id=policy.id,
        from_code=accepted.tier_code,
        from_name=accepted.tier_name,
        from_rank=accepted.tier_rank,
        to_code="ENT",
        to_name="Enterprise",
        to_rank=1,
        explanation="Proposed by the review of last week.",
        source="review",
        status=ChangeStatus.PROPOSED,
    )
    plan = reviews.chunk_plan(policy)
    # An open proposal keeps the account a candidate; once accepted, its tier was written since.
    assert [
        f.id for f in reviews.candidate_facts(plan, kept.pk - 1, accepted.pk, timezone.localdate()).facts
    ] == [accepted.pk]
    tier_proposal_accept(change=change, by=lena)
    found = reviews.candidate_facts(plan, kept.pk - 1, accepted.pk, timezone.localdate())
    total, candidates = found.total, found.facts
    assert (total, [facts.id for facts in candidates]) == (2, [accepted.pk])


def test_a_new_release_of_the_engine_evaluates_every_account_again(db, monkeypatch):
    policy = evaluation.active_policy_snapshot()
    account = AccountFactory(acv=Decimal("20000"))
    _evaluate(policy, account)
    plan = reviews.chunk_plan(policy)
    assert reviews.candidate_facts(plan, account.pk - 1, account.pk, timezone.localdate()).facts == []
    monkeypatch.setattr(engine, "_ENGINE_SOURCE_DIGEST", "the next release")
    next_release = evaluation.active_policy_snapshot()
    assert next_release.fingerprint != policy.fingerprint
    plan = reviews.chunk_plan(next_release)
    assert [
        f.id for f in reviews.candidate_facts(plan, account.pk - 1, account.pk, timezone.localdate()).facts
    ] == [account.pk]


# --- Relationship economics ------------------------------------------------------------------------


@dataclass
class Served:
    acv: Decimal
    minutes: int
    tickets_in_window: list[int]
    tickets_before_window: int
    days_served: int
    has_contract_start: bool


served_accounts = st.builds(
    Served,
    acv=st.one_of(
        st.sampled_from([Decimal("49999.99"), Decimal("50000"), Decimal("50000.01")]),
        st.decimals(min_value=0, max_value=500_000, places=2, allow_nan=False, allow_infinity=False),
    ),
    minutes=st.integers(min_value=0, max_value=20_000),
    tickets_in_window=st.lists(st.integers(min_value=0, max_value=40), max_size=3),
    tickets_before_window=st.integers(min_value=0, max_value=40),
    days_served=st.one_of(
        st.sampled_from([-10, 0, 1, 29, 30, 31, 364, 365, 366]), st.integers(min_value=-30, max_value=2000)
    ),
    has_contract_start=st.booleans(),
)
rates_in_cents = st.decimals(min_value=0, max_value=300, places=2, allow_nan=False, allow_infinity=False)


@AGREEMENT
@given(
    served=st.lists(served_accounts, min_size=1, max_size=6),
    hourly=rates_in_cents,
    ticket=rates_in_cents,
    high_cost=st.sampled_from([Decimal("0"), Decimal("1000"), Decimal("5000"), Decimal("12345.67")]),
)
def test_cost_to_serve_and_quadrants_in_sql_agree_with_the_python_rule(
    db, monkeypatch, served, hourly, ticket, high_cost
):
    # One override per example, undone at its end. pytest-django's ``settings`` fixture lives as
    # long as the test, so it stacked a layer per example: hundreds while hypothesis shrinks a
    # failure, until a settings lookup overflowed the stack and hid the failure being shrunk.
    with override_settings(
        CSM_HOURLY_COST=float(hourly),
        SUPPORT_TICKET_COST=float(ticket),
        ECONOMICS_HIGH_COST_TO_SERVE=float(high_cost),
    ):
        rates = CostRates.from_settings()
        today = timezone.localdate()
        with transaction.atomic():
            expected: dict[int, tuple[Decimal, str]] = {}
            minutes: list[tuple[int, int]] = []
            for one in served:
                start = today - dt.timedelta(days=one.days_served)
                # A start up to 30 days ahead needs its renewal after it: the factory's fixed
                # renewal date came before such a start once today passed 2 December 2026.
                account = AccountFactory(
                    acv=one.acv,
                    contract_start=start if one.has_contract_start else None,
                    renewal_date=start + dt.timedelta(days=365),
                )
                if not one.has_contract_start:
                    created = dt.datetime.combine(start, dt.time(12), tzinfo=dt.UTC)
                    Account.objects.filter(pk=account.pk).update(created_at=created)
                for week, tickets in enumerate(one.tickets_in_window):
                    UsageSnapshotFactory(
                        account=account,
                        period_start=today - dt.timedelta(days=7 * week),
                        support_tickets=tickets,
                    )
                UsageSnapshotFactory(
                    account=account,
                    period_start=today - dt.timedelta(days=400),
                    support_tickets=one.tickets_before_window,
                )
                if one.minutes:
                    minutes.append((account.pk, one.minutes))
                cost = annual_cost_to_serve(
                    minutes=one.minutes,
                    tickets=sum(one.tickets_in_window),
                    served_since=start,
                    today=today,
                    rates=rates,
                )
                expected[account.pk] = (cost, quadrant_for(acv=one.acv, cost=cost, rates=rates).value)
            values = ", ".join(f"({pk}, {n})" for pk, n in minutes)
            monkeypatch.setattr(
                "segmentation.economics._minutes_sql",
                f"SELECT account_id, minutes FROM (VALUES {values}) m (account_id, minutes) "
                "WHERE %(since)s IS NOT NULL"
                if minutes
                else None,
            )

            in_sql = {
                pk: (cost, quadrant)
                for pk, _, cost, quadrant in economics_sql.account_costs(
                    account_ids=list(expected), today=today, rates=rates
                )
            }
            assert set(in_sql) == set(expected)
            for pk, (cost, quadrant) in expected.items():
                assert abs(in_sql[pk][0] - cost) < Decimal("1e-9")
                assert in_cents(in_sql[pk][0]) == in_cents(cost)
                assert in_sql[pk][1] == quadrant
                one_account = economics_services.account_cost_to_serve(account_id=pk, today=today)
                assert (one_account["cost_to_serve"], one_account["quadrant"]) == (in_cents(cost), quadrant)

            for quadrant in {q for _, q in expected.values()}:
                assert set(
                    economics_sql.account_ids_in_quadrant(
                        quadrant=quadrant, today=today, rates=rates, limit=100
                    )
                ) == {pk for pk, (_, q) in expected.items() if q == quadrant}

            totals = {q: (n, acv, cost) for q, n, acv, cost in economics_services.quadrant_totals(today)}
            acv_of = {pk: acv for pk, acv in Account.objects.filter(id__in=expected).values_list("id", "acv")}
            for quadrant in {q for _, q in expected.values()}:
                members = [pk for pk, (_, q) in expected.items() if q == quadrant]
                n, acv, cost = totals[quadrant]
                assert (n, acv) == (len(members), sum(acv_of[pk] for pk in members))
                assert abs(cost - sum(expected[pk][0] for pk in members)) <= CENT * len(members)
            transaction.set_rollback(True)
