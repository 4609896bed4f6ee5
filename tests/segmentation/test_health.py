"""Account health: the reference scorer, scorecard validation and activation, the batch computation
(history, trend, the at-risk flag) and its agreement with the reference."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from engagement.models import Flag, FlagKind, FlagStatus
from segmentation.engine import condition_holds
from segmentation.health import Component, Scorecard, compute_health, explanation_from_kept
from segmentation.models import AccountHealth, HealthScorecard, ScorecardStatus
from segmentation.rules import validate_rules
from segmentation.services.health import (
    active_scorecard_snapshot,
    health_compute_accounts,
    health_compute_book,
)
from segmentation.services.health_scorecards import (
    health_scorecard_activate,
    health_scorecard_create_draft,
    health_scorecard_update,
)
from tests.engagement.factories import FlagFactory, TouchpointFactory
from tests.factories import AccountFactory

TODAY = dt.date(2026, 11, 29)


def step(*pairs: tuple[float, int]) -> tuple[tuple[Decimal, int], ...]:
    return tuple((Decimal(str(start)), points) for start, points in pairs)


FLAGS = Component(
    "open_flags", Decimal("1"), step((0, 100), (1, 60), (3, 0)), missing_points=50, label="open flags"
)
TICKETS = Component(
    "support_tickets_30d", Decimal("3"), step((0, 100), (5, 40), (10, 0)), label="support tickets in 30 days"
)
CARD = Scorecard(id=1, version=1, watch_from=40, healthy_from=70, components=(FLAGS, TICKETS))

# The scorecard the database tests activate: flags and touch recency, data the tests set directly.
FLAGS_AND_TOUCH = [
    {
        "signal": "open_flags",
        "weight": 1,
        "direction": "lower_is_better",
        "points": [{"from": 0, "points": 100}, {"from": 1, "points": 30}, {"from": 2, "points": 0}],
        "missing_points": 100,
    },
    {
        "signal": "days_since_last_touch",
        "weight": 1,
        "direction": "lower_is_better",
        "points": [{"from": 0, "points": 100}, {"from": 30, "points": 50}, {"from": 90, "points": 0}],
        "missing_points": 0,
    },
]


# --- the reference ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "points"),
    [(-1, 100), (0, 100), (Decimal("0.99"), 100), (1, 60), (2, 60), (3, 0), (40, 0), (None, 50)],
)
def test_a_value_earns_the_points_of_the_last_step_it_reaches(value, points):
    assert FLAGS.points_for(value) == points


def test_a_boolean_counts_one_or_zero():
    champion = Component("has_champion", Decimal(1), step((0, 20), (1, 100)))
    assert champion.points_for(True) == 100
    assert champion.points_for(False) == 20


def test_contributions_are_weighted_by_the_share_of_the_total_weight():
    health = compute_health(CARD, {"open_flags": 1, "support_tickets_30d": 5})
    # 60 × 1/4 + 40 × 3/4 = 15 + 30
    assert health.score == 45
    assert [(c["signal"], c["points"], c["weight"], c["contribution"]) for c in health.explanation] == [
        ("open_flags", 60, 1.0, 15.0),
        ("support_tickets_30d", 40, 3.0, 30.0),
    ]
    assert health.explanation[0]["value"] == 1
    assert health.explanation[0]["label"] == "open flags"


def test_the_score_rounds_half_up():
    card = Scorecard(
        None,
        1,
        40,
        70,
        (Component("open_flags", Decimal(1), step((0, 45))), Component("acv", Decimal(1), step((0, 100)))),
    )
    # (45 + 100) / 2 = 72.5
    assert compute_health(card, {"open_flags": 0, "acv": 1}).score == 73


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "at_risk"), (39, "at_risk"), (40, "watch"), (69, "watch"), (70, "healthy"), (100, "healthy")],
)
def test_bands_start_at_their_lower_bounds(score, band):
    assert CARD.band_for(score) == band


def test_a_missing_value_earns_the_missing_points():
    health = compute_health(CARD, {"open_flags": None, "support_tickets_30d": 0})
    assert health.explanation[0]["points"] == 50
    assert health.explanation[0]["value"] is None


def test_the_sentence_names_what_costs_the_most_with_its_effect_against_a_perfect_score():
    health = compute_health(CARD, {"open_flags": 3, "support_tickets_30d": 9})
    # flags: (0 − 100) × 1/4 = −25; tickets: (40 − 100) × 3/4 = −45; score 0.25×0 + 0.75×40 = 30
    assert health.summary == "Health 30 (at risk): 9 tickets in 30 days (-45); 3 open flags (-25)."


def test_the_sentence_describes_a_usage_trend_and_missing_touches_as_a_csm_reads_them():
    card = Scorecard(
        None,
        1,
        40,
        70,
        (
            Component("active_users_trend_90d", Decimal(2), step((-100, 10), (0, 100))),
            Component("days_since_last_touch", Decimal(1), step((0, 100)), missing_points=0),
            Component("coverage_kept", Decimal(1), step((0, 0), (1, 100)), label="coverage kept"),
        ),
    )
    health = compute_health(
        card,
        {
            "active_users_trend_90d": Decimal("-35.2"),
            "days_since_last_touch": None,
            "coverage_kept": Decimal("0.5"),
        },
    )
    assert health.summary == (
        "Health 5 (at risk): active users -35% in 90 days (-45); no touchpoint logged (-25); "
        "coverage kept 50% (-25)."
    )


def test_the_sentence_names_at_most_three_components_and_none_that_costs_nothing():
    components = tuple(Component(f"c{i}", Decimal(1), step((0, 100 - 10 * i))) for i in range(5))
    health = compute_health(Scorecard(None, 1, 40, 70, components), {f"c{i}": 0 for i in range(5)})
    assert health.summary == "Health 80 (healthy): c4 0 (-8); c3 0 (-6); c2 0 (-4)."
    perfect = compute_health(CARD, {"open_flags": 0, "support_tickets_30d": 0})
    assert perfect.summary == "Health 100 (healthy): nothing costs it a point."


# --- health as a tier-rule signal ---------------------------------------------------------------


def test_tier_rules_may_use_health_score_and_band():
    rules = [
        {
            "name": "Sick",
            "when": [
                {"signal": "health_band", "op": "==", "value": "at_risk"},
                {"signal": "health_score", "op": "<", "value": 30},
            ],
            "effect": {"type": "flag", "kind": "health", "days": 7},
        }
    ]
    assert validate_rules(rules, tier_codes={"ENT"}) == []
    assert condition_holds({"signal": "health_score", "op": "<", "value": 30}, 12)
    bad = [{**rules[0], "when": [{"signal": "health_band", "op": "==", "value": "sick"}]}]
    assert validate_rules(bad, tier_codes={"ENT"})


# --- scorecards: validation and activation -----------------------------------------------------


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"weight": -1}, "components", "open_flags: the weight must not be negative."),
        ({"signal": "mood"}, "components", "mood: unknown signal"),
        ({"points": [{"from": 0, "points": 101}]}, "components", "open_flags: points must be whole numbers"),
        (
            {"points": [{"from": 1, "points": 0}, {"from": 0, "points": 50}]},
            "components",
            "open_flags: steps must be in ascending order",
        ),
        (
            {"points": [{"from": 0, "points": 0}, {"from": 1, "points": 50}]},
            "components",
            "open_flags: points must not rise as the value grows",
        ),
        (
            {"direction": "higher_is_better"},
            "components",
            "open_flags: points must not fall as the value grows",
        ),
        ({"missing_points": 150}, "components", "open_flags: missing_points must be a whole number"),
    ],
)
def test_a_bad_component_is_refused_naming_it(lena, change, field, message):
    components = [{**FLAGS_AND_TOUCH[0], **change}, FLAGS_AND_TOUCH[1]]
    with pytest.raises(ValidationError) as exc:
        health_scorecard_create_draft(by=lena, components=components)
    assert any(m.startswith(message) for m in _errors(exc)[field]), _errors(exc)


@pytest.mark.django_db
def test_weights_all_zero_and_overlapping_bands_are_refused(lena):
    zero = [{**c, "weight": 0} for c in FLAGS_AND_TOUCH]
    with pytest.raises(ValidationError) as exc:
        health_scorecard_create_draft(by=lena, components=zero, watch_from=70, healthy_from=70)
    assert _errors(exc)["components"] == ["components: at least one component needs a weight above 0."]
    assert "watch_from < healthy_from" in _errors(exc)["bands"][0]


@pytest.mark.django_db
def test_a_draft_copies_the_active_scorecard_and_only_leadership_may_create_one(lena, alice):
    with pytest.raises(PermissionDenied):
        health_scorecard_create_draft(by=alice)
    draft = health_scorecard_create_draft(by=lena)
    active = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)
    assert draft.status == ScorecardStatus.DRAFT and draft.version == active.version + 1
    assert list(draft.components.values_list("signal", "weight", "points")) == list(
        active.components.values_list("signal", "weight", "points")
    )


@pytest.mark.django_db
def test_activation_retires_the_previous_one_and_records_who_and_when(lena):
    previous = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)
    draft = health_scorecard_create_draft(by=lena, components=FLAGS_AND_TOUCH)
    health_scorecard_activate(scorecard=draft, by=lena)
    draft.refresh_from_db()
    previous.refresh_from_db()
    assert draft.status == ScorecardStatus.ACTIVE and draft.activated_by == lena and draft.activated_at
    assert previous.status == ScorecardStatus.RETIRED and previous.retired_at
    assert HealthScorecard.objects.filter(status=ScorecardStatus.ACTIVE).count() == 1
    with pytest.raises(ValidationError) as exc:
        health_scorecard_update(scorecard=draft, by=lena, watch_from=30)
    assert "Only a draft can be edited" in _errors(exc)["status"][0]
    with pytest.raises(ValidationError):
        health_scorecard_activate(scorecard=previous, by=lena)


@pytest.mark.django_db
def test_updating_a_draft_replaces_its_components_and_bands(lena):
    draft = health_scorecard_create_draft(by=lena)
    health_scorecard_update(scorecard=draft, by=lena, components=FLAGS_AND_TOUCH[:1], watch_from=30)
    draft.refresh_from_db()
    assert list(draft.components.values_list("signal", flat=True)) == ["open_flags"]
    assert draft.watch_from == 30
    with pytest.raises(ValidationError) as exc:
        health_scorecard_update(scorecard=draft, by=lena, healthy_from=20)
    assert "bands" in _errors(exc)


# --- computation --------------------------------------------------------------------------------


@pytest.fixture
def flags_and_touch(lena) -> HealthScorecard:
    draft = health_scorecard_create_draft(by=lena, components=FLAGS_AND_TOUCH)
    return health_scorecard_activate(scorecard=draft, by=lena)


def _touched(account: Account, days_ago: int) -> None:
    TouchpointFactory(
        account=account,
        occurred_at=dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(12), tzinfo=dt.UTC),
    )


@pytest.mark.django_db
def test_health_is_written_to_the_history_and_the_account(flags_and_touch):
    account = AccountFactory(region="")
    _touched(account, 40)
    FlagFactory(account=account)
    assert health_compute_accounts(account_ids=[account.pk], today=TODAY) == 1
    account.refresh_from_db()
    # flags 1 → 30, touch 40 days → 50: (30 + 50) / 2
    assert (account.health_score, account.health_band, account.health_on) == (40, "watch", TODAY)
    row = AccountHealth.objects.get(account=account)
    assert (row.score, row.band, row.date, row.scorecard_id) == (40, "watch", TODAY, flags_and_touch.pk)
    # Kept as [value, points] per component; the scorecard gives back the rest.
    assert row.explanation == [[1, 30], [40, 50]]
    snapshot = active_scorecard_snapshot()
    assert snapshot is not None
    assert explanation_from_kept(snapshot, row.explanation) == [
        {
            "signal": "open_flags",
            "label": "open flags",
            "value": 1,
            "points": 30,
            "weight": 1.0,
            "contribution": 15.0,
        },
        {
            "signal": "days_since_last_touch",
            "label": "days since the last touch",
            "value": 40,
            "points": 50,
            "weight": 1.0,
            "contribution": 25.0,
        },
    ]
    assert row.summary == "Health 40 (watch): 1 open flag (-35); no touch for 40 days (-25)."


@pytest.mark.django_db
def test_one_row_a_day_and_a_recompute_the_same_day_replaces_it(flags_and_touch):
    account = AccountFactory()
    _touched(account, 0)
    health_compute_accounts(account_ids=[account.pk], today=TODAY)
    FlagFactory(account=account)
    health_compute_accounts(account_ids=[account.pk], today=TODAY)
    health_compute_accounts(account_ids=[account.pk], today=TODAY + dt.timedelta(days=1))
    rows = list(AccountHealth.objects.filter(account=account).order_by("date").values_list("date", "score"))
    assert rows == [(TODAY, 65), (TODAY + dt.timedelta(days=1), 65)]


@pytest.mark.django_db
def test_an_earlier_day_does_not_overwrite_the_latest_health_on_the_account(flags_and_touch):
    account = AccountFactory()
    health_compute_accounts(account_ids=[account.pk], today=TODAY)
    _touched(account, 0)
    health_compute_accounts(account_ids=[account.pk], today=TODAY - dt.timedelta(days=5))
    account.refresh_from_db()
    assert account.health_on == TODAY


@pytest.mark.django_db
def test_the_nightly_run_scores_every_account_but_churned_ones(flags_and_touch):
    kept = AccountFactory.create_batch(3)
    churned = AccountFactory(lifecycle_stage="churned")
    assert health_compute_book(today=TODAY) == 3
    assert set(AccountHealth.objects.values_list("account_id", flat=True)) == {a.pk for a in kept}
    assert not AccountHealth.objects.filter(account=churned).exists()


@pytest.mark.django_db
def test_a_fall_into_at_risk_raises_one_flag(flags_and_touch, django_capture_on_commit_callbacks):
    account = AccountFactory()
    _touched(account, 0)
    with django_capture_on_commit_callbacks(execute=True):
        health_compute_accounts(account_ids=[account.pk], today=TODAY)  # 100: healthy
    assert not Flag.objects.filter(kind=FlagKind.HEALTH_AT_RISK).exists()
    FlagFactory(account=account)
    FlagFactory(account=account, kind=FlagKind.TICKET_SURGE)
    with django_capture_on_commit_callbacks(execute=True):
        # flags 2 → 0, touched today → 100: 50 (watch); then 100 days without a touch → at risk
        health_compute_accounts(account_ids=[account.pk], today=TODAY + dt.timedelta(days=100))
    flags = Flag.objects.filter(account=account, kind=FlagKind.HEALTH_AT_RISK)
    assert flags.count() == 1
    flag = flags.get()
    assert flag.status == FlagStatus.OPEN
    assert flag.explanation.startswith("Health 0 (at risk): ")
    with django_capture_on_commit_callbacks(execute=True):
        health_compute_accounts(account_ids=[account.pk], today=TODAY + dt.timedelta(days=101))
    assert Flag.objects.filter(account=account, kind=FlagKind.HEALTH_AT_RISK).count() == 1


@pytest.mark.django_db
def test_a_touchpoint_recomputes_the_account_health(flags_and_touch, django_capture_on_commit_callbacks):
    account = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        TouchpointFactory(account=account)
    account.refresh_from_db()
    assert account.health_score == 100


# --- the batch agrees with the reference --------------------------------------------------------

AGREEMENT = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
inputs = st.lists(
    st.tuples(st.integers(0, 4), st.one_of(st.none(), st.integers(0, 200))), min_size=1, max_size=6
)


@pytest.mark.django_db
@AGREEMENT
@given(accounts=inputs, weights=st.tuples(st.integers(0, 5), st.integers(1, 5)))
def test_the_batch_writes_what_the_reference_computes(lena, accounts: list[Any], weights: tuple[int, int]):
    with transaction.atomic():
        components = [{**c, "weight": w} for c, w in zip(FLAGS_AND_TOUCH, weights, strict=True)]
        scorecard = health_scorecard_create_draft(by=lena, components=components)
        health_scorecard_activate(scorecard=scorecard, by=lena)
        reference = active_scorecard_snapshot()
        assert reference is not None
        expected = {}
        for flags, days_ago in accounts:
            account = AccountFactory(region="")
            FlagFactory.create_batch(flags, account=account, kind=factory_kinds(flags))
            if days_ago is not None:
                _touched(account, days_ago)
            expected[account.pk] = compute_health(
                reference, {"open_flags": flags, "days_since_last_touch": days_ago}
            )
        health_compute_accounts(account_ids=list(expected), today=TODAY)
        stored = {row.account_id: row for row in AccountHealth.objects.filter(account_id__in=expected)}
        latest = {
            pk: (score, band)
            for pk, score, band in Account.objects.filter(pk__in=expected).values_list(
                "pk", "health_score", "health_band"
            )
        }
        for pk, health in expected.items():
            row = stored[pk]
            # The kept explanation gives back exactly what the reference explained.
            assert (row.score, row.band, explanation_from_kept(reference, row.explanation), row.summary) == (
                health.score,
                health.band,
                health.explanation,
                health.summary,
            )
            assert latest[pk] == (health.score, health.band)
        transaction.set_rollback(True)


def factory_kinds(count: int) -> Any:
    """Distinct kinds (one open flag per account and kind)."""
    import factory

    kinds = [FlagKind.USAGE_DROP, FlagKind.USAGE_SPIKE, FlagKind.TICKET_SURGE, FlagKind.RENEWAL_NEAR]
    return factory.Iterator(kinds[:count] or kinds)
