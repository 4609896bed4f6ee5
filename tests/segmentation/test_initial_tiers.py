"""The set-based initial tiering writes exactly what evaluating each account in the engine writes:
tier, explanation (word for word), tier state and TierChange, under a policy without rules and
under generated rules with usage around every edge; accounts that are not fresh (a tier state
kept from earlier, an active override) still get the engine's outcome one by one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Account
from segmentation.models import AccountTierState, TierChange, TierOverride, TierPolicy
from segmentation.rule_inputs import compiles_to_sql
from segmentation.services import evaluation
from segmentation.services.initial_tiers import tier_assign_initial
from tests.factories import AccountFactory, UserFactory
from tests.segmentation.test_rule_signals_agree import AGREEMENT, _create, accounts, rule_sets

pytestmark = pytest.mark.django_db


def _written(ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Everything the tiering writes about each account, without ids and clock readings (which
    are checked apart)."""
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
            "policy_id",
            "policy_tier_code",
            "policy_tier_rank",
            "pending_downgrade_reviews",
            "last_review_id",
            "steps",
            "flags",
            "evaluated_with",
            "evaluated_acv",
            "evaluated_signals",
        )
    }
    changes = {
        pk: sorted(
            TierChange.objects.filter(account_id=pk).values_list(
                "policy_id",
                "review_id",
                "override_id",
                "from_code",
                "from_name",
                "from_rank",
                "to_code",
                "to_name",
                "to_rank",
                "explanation",
                "steps",
                "source",
                "status",
                "by_id",
                "decision_note",
            )
        )
        for pk in ids
    }
    return {pk: (tiers[pk], states.get(pk), changes[pk]) for pk in ids}


def _by_engine_one_by_one(ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """What ``evaluate_batch`` writes for the same accounts (rolled back afterwards)."""
    with transaction.atomic():
        policy = evaluation.active_policy_snapshot()
        evaluation.evaluate_batch(policy=policy, facts=evaluation.load_facts(ids), source="initial")
        written = _written(ids)
        transaction.set_rollback(True)
    return written


def _clock_readings_agree(ids: list[int]) -> None:
    for account in Account.objects.filter(id__in=ids):
        state = AccountTierState.objects.get(account_id=account.pk)
        change = TierChange.objects.get(account_id=account.pk)
        assert account.tier_updated_at is not None
        assert state.tier_written_at == account.tier_updated_at
        # As evaluate_batch keeps it: when the facts were read (the transaction's start), so an
        # evaluation begun later wins the account.
        assert state.evaluated_at <= state.tier_written_at
        with connection.cursor() as cursor:
            cursor.execute("SELECT transaction_timestamp()")
            assert state.evaluated_at == cursor.fetchone()[0]
        assert change.applied_at == change.created_at == account.tier_updated_at


@AGREEMENT
@given(generated=st.lists(accounts, min_size=1, max_size=8), rules=st.one_of(st.just([]), rule_sets))
def test_set_based_initial_tiers_are_what_the_engine_writes_account_by_account(generated, rules):
    today = timezone.localdate()
    with transaction.atomic():
        TierPolicy.objects.filter(status="active").update(rules=rules)
        assert compiles_to_sql(rules)
        ids = [_create(g, today).pk for g in generated]
        expected = _by_engine_one_by_one(ids)

        assert tier_assign_initial(today=today) == len(ids)

        assert _written(ids) == expected
        _clock_readings_agree(ids)
        transaction.set_rollback(True)


def test_many_accounts_sharing_an_acv_get_the_engines_outcome_each():
    # 0.85 and 0.850 would be one evaluation key but two texts: the same ACV in two scales is
    # not one outcome either (the database keeps two places, so they meet as one value here).
    acvs = [Decimal("14999.99"), Decimal("15000"), Decimal("15000.00"), Decimal("50000"), Decimal("0")]
    ids = [AccountFactory(acv=acv).pk for acv in acvs * 3]
    expected = _by_engine_one_by_one(ids)
    assert tier_assign_initial() == len(ids)
    assert _written(ids) == expected
    assert Account.objects.get(pk=ids[0]).tier_explanation == "ACV 14,999.99 < 15,000 → Mid-Market Tier 3."


def test_accounts_that_are_not_fresh_are_evaluated_one_by_one_with_what_they_carry():
    today = timezone.localdate()
    fresh = AccountFactory(acv=Decimal("60000"))
    kept_state = AccountFactory(acv=Decimal("48000"))
    overridden = AccountFactory(acv=Decimal("9000"))
    policy = evaluation.active_policy_snapshot()
    # An earlier evaluation said Tier 1 (hysteresis holds the downgrade within the band).
    AccountTierState.objects.create(
        account_id=kept_state.pk,
        policy_id=policy.id,
        policy_tier_code="MM1",
        policy_tier_rank=1,
        steps=[],
        flags=[],
    )
    requester = UserFactory()
    TierOverride.objects.create(
        account=overridden,
        tier_code="MM1",
        tier_name="Mid-Market Tier 1",
        tier_rank=1,
        reason="strategic_logo",
        note="Design partner.",
        requested_by=requester,
        status="active",
        expires_on=today + dt.timedelta(days=30),
    )
    ids = [fresh.pk, kept_state.pk, overridden.pk]
    expected = _by_engine_one_by_one(ids)

    assert tier_assign_initial() == 3

    assert _written(ids) == expected
    kept_state.refresh_from_db()
    overridden.refresh_from_db()
    assert kept_state.tier_code == "MM1" and "stays Mid-Market Tier 1" in kept_state.tier_explanation
    assert overridden.tier_source == "override" and overridden.tier_code == "MM1"
    assert tier_assign_initial() == 0
