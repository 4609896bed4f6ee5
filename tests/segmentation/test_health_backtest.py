"""The health scorecard backtest: the AUC by ranks, the 90-days-before reconstruction, the figures per
band, too few outcomes, fitting weights to outcomes, and the leadership pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from accounts.models import Account
from segmentation.models import AccountHealth, HealthScorecard, ScorecardStatus
from segmentation.services.health import scorecard_snapshot
from segmentation.services.health_backtest import backtest_cases, health_backtest, roc_auc
from segmentation.services.health_scorecards import health_scorecard_activate, health_scorecard_create_draft
from tests.engagement.factories import FlagFactory, TouchpointFactory
from tests.factories import AccountFactory, RenewalOutcomeFactory, UsageSnapshotFactory

TODAY = dt.date(2026, 11, 29)
RENEWAL = dt.date(2026, 9, 1)
AS_OF = RENEWAL - dt.timedelta(days=90)

TREND = {
    "signal": "active_users_trend_90d",
    "weight": 1,
    "direction": "higher_is_better",
    "points": [{"from": -100, "points": 0}, {"from": -20, "points": 50}, {"from": 0, "points": 100}],
    "missing_points": 50,
}
SEATS = {
    "signal": "seat_utilisation",
    "weight": 1,
    "direction": "higher_is_better",
    "points": [{"from": 0, "points": 0}, {"from": "0.5", "points": 50}, {"from": "0.8", "points": 100}],
    "missing_points": 50,
}
FLAGS = {
    "signal": "open_flags",
    "weight": 1,
    "direction": "lower_is_better",
    "points": [{"from": 0, "points": 100}, {"from": 1, "points": 0}],
    "missing_points": 100,
}
TOUCH = {
    "signal": "days_since_last_touch",
    "weight": 1,
    "direction": "lower_is_better",
    "points": [{"from": 0, "points": 100}, {"from": 30, "points": 50}, {"from": 90, "points": 0}],
    "missing_points": 0,
}


def _renewal(account: Account, outcome: str, *, on: dt.date = RENEWAL) -> None:
    fields: dict[str, Any] = {"outcome": outcome}
    if outcome == "churned":
        fields.update(arr_after=Decimal(0), churn_reason="budget")
    elif outcome == "contracted":
        fields.update(arr_after=Decimal("15000.00"))
    elif outcome == "expanded":
        fields.update(arr_after=Decimal("25000.00"))
    RenewalOutcomeFactory(account=account, renewal_date=on, **fields)


def _usage(account: Account, *, on: dt.date, users: int, seats: int = 100) -> None:
    UsageSnapshotFactory(account=account, period_start=on, active_users=users, licensed_seats=seats)


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


# --- the rank formula ---------------------------------------------------------------------------


def test_auc_by_ranks_on_a_hand_checked_case_with_ties():
    # Bad cases 0.9, 0.8, 0.5, 0.3 against good 0.5, 0.2, 0.1, 0.3: pairs won 4 + 4 + 3.5 + 2.5
    # (each tie counts half) of 16.
    risks = [0.9, 0.8, 0.5, 0.3, 0.5, 0.2, 0.1, 0.3]
    bad = [True] * 4 + [False] * 4
    assert roc_auc(risks, bad) == pytest.approx(14 / 16)


@pytest.mark.parametrize(
    ("risks", "bad", "expected"),
    [
        ([3, 2, 1, 0], [True, True, False, False], 1.0),
        ([0, 1, 2, 3], [True, True, False, False], 0.0),
        ([5, 5, 5, 5], [True, False, True, False], 0.5),
        ([1, 2], [False, False], None),
        ([1, 2], [True, True], None),
    ],
)
def test_auc_extremes_all_ties_and_one_sided_cases(risks, bad, expected):
    assert roc_auc(risks, bad) == expected


# --- the backtest -------------------------------------------------------------------------------


@pytest.fixture
def seats_draft(lena) -> HealthScorecard:
    return health_scorecard_create_draft(by=lena, components=[SEATS], watch_from=40, healthy_from=70)


@pytest.mark.django_db
def test_too_few_outcomes_say_so_instead_of_an_auc(seats_draft):
    for outcome in ("churned", "renewed", "renewed"):
        _renewal(AccountFactory(), outcome)
    result = health_backtest(scorecard=seats_draft, today=TODAY)
    assert result.renewals == 3 and result.auc is None
    assert result.message.startswith("Only 3 renewals recorded in the last 12 months")


@pytest.mark.django_db
def test_no_bad_outcome_says_there_is_nothing_to_separate(seats_draft):
    for _ in range(20):
        _renewal(AccountFactory(), "renewed")
    result = health_backtest(scorecard=seats_draft, today=TODAY)
    assert result.auc is None and "nothing to separate" in result.message


@pytest.mark.django_db
def test_churn_and_bad_outcome_rate_per_band_and_the_auc(seats_draft):
    # Ten accounts at 30% of seats (0 points: at risk), ten at 90% (100 points: healthy).
    at_risk = ["churned"] * 5 + ["contracted"] + ["renewed"] * 4
    healthy = ["churned", "contracted"] + ["renewed"] * 4 + ["expanded"] * 4
    for users, outcomes in ((30, at_risk), (90, healthy)):
        for outcome in outcomes:
            account = AccountFactory()
            _usage(account, on=AS_OF - dt.timedelta(days=7), users=users)
            _renewal(account, outcome)
    # Outside the 12 months: not counted.
    _renewal(AccountFactory(), "churned", on=TODAY - dt.timedelta(days=366))

    result = health_backtest(scorecard=seats_draft, today=TODAY)

    assert (result.renewals, result.bad, result.churned, result.message) == (20, 8, 6, "")
    bands = {b.band: b for b in result.bands}
    assert (bands["at_risk"].renewals, bands["at_risk"].churn_rate, bands["at_risk"].bad_rate) == (
        10,
        0.5,
        0.6,
    )
    assert (bands["healthy"].renewals, bands["healthy"].churn_rate, bands["healthy"].bad_rate) == (
        10,
        0.1,
        0.2,
    )
    assert (bands["watch"].renewals, bands["watch"].churn_rate) == (0, None)
    # 6 bad at risk beat 8 good healthy (48) and tie 4 good at risk (12); 2 bad healthy tie 8 (8).
    assert result.auc == pytest.approx(68 / 96)


@pytest.mark.django_db
def test_the_score_is_the_one_of_90_days_before_the_renewal(lena):
    draft = health_scorecard_create_draft(by=lena, components=[TREND, FLAGS, TOUCH])
    account = AccountFactory(region="")
    # Steady usage up to the as-of day; the collapse after it must not count.
    for weeks_before in range(16, -1, -1):
        _usage(account, on=AS_OF - dt.timedelta(weeks=weeks_before), users=100)
    for weeks_after in range(1, 12):
        _usage(account, on=AS_OF + dt.timedelta(weeks=weeks_after), users=5)
    # A flag open on the as-of day (resolved later) counts; one raised after it does not.
    FlagFactory(
        account=account,
        raised_at=_moment(AS_OF - dt.timedelta(days=3)),
        expires_at=_moment(AS_OF + dt.timedelta(days=30)),
        status="resolved",
        closed_at=_moment(AS_OF + dt.timedelta(days=10)),
    )
    FlagFactory(account=account, kind="champion_left", raised_at=_moment(AS_OF + dt.timedelta(days=1)))
    # The touch 40 days before counts; the one after the as-of day does not.
    TouchpointFactory(account=account, occurred_at=_moment(AS_OF - dt.timedelta(days=40)))
    TouchpointFactory(account=account, occurred_at=_moment(AS_OF + dt.timedelta(days=5)))
    _renewal(account, "churned")

    [case] = backtest_cases(scorecard=scorecard_snapshot(draft), today=TODAY, use_stored=False)

    # trend 0% → 100; one flag open → 0; last touch 40 days before → 50.
    assert case.points == (100, 0, 50)
    assert case.score == 50 and case.band == "watch" and not case.from_history


@pytest.mark.django_db
def test_the_active_scorecard_uses_its_stored_history_when_there_is_some(lena):
    active = health_scorecard_activate(
        scorecard=health_scorecard_create_draft(by=lena, components=[SEATS]), by=lena
    )
    stored, recomputed = AccountFactory(), AccountFactory()
    for account in (stored, recomputed):
        _usage(account, on=AS_OF - dt.timedelta(days=7), users=90)
        _renewal(account, "renewed")
    AccountHealth.objects.create(
        account=stored, date=AS_OF - dt.timedelta(days=2), score=12, band="at_risk", scorecard=active
    )
    cases = {
        c.account_id: c
        for c in backtest_cases(scorecard=scorecard_snapshot(active), today=TODAY, use_stored=True)
    }
    assert (cases[stored.pk].score, cases[stored.pk].from_history) == (12, True)
    assert (cases[recomputed.pk].score, cases[recomputed.pk].from_history) == (100, False)
    result = health_backtest(
        scorecard=HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE), today=TODAY
    )
    assert result.from_history == 1


# --- fitting weights to outcomes ----------------------------------------------------------------


@pytest.mark.django_db
def test_fitting_gives_the_predictive_component_the_weight_and_noise_none(lena, alice):
    from django.core.exceptions import PermissionDenied

    from segmentation.services.health_fit import health_scorecard_fit_draft

    base = health_scorecard_create_draft(by=lena, components=[SEATS, FLAGS, TOUCH])
    for i in range(80):
        account = AccountFactory()
        low_usage = i % 2 == 0
        _usage(account, on=AS_OF - dt.timedelta(days=7), users=30 if low_usage else 90)
        if (i // 2) % 2:  # an open flag, independent of usage and of the outcome
            FlagFactory(
                account=account,
                raised_at=_moment(AS_OF - dt.timedelta(days=3)),
                expires_at=_moment(AS_OF + dt.timedelta(days=30)),
            )
        # Low usage churns, except one in five; high usage renews, except one in five contracts.
        surprise = i % 10 in (0, 1)
        _renewal(
            account,
            ("renewed" if surprise else "churned")
            if low_usage
            else ("contracted" if surprise else "renewed"),
        )

    with pytest.raises(PermissionDenied):
        health_scorecard_fit_draft(by=alice, base=base, today=TODAY)
    fitted = health_scorecard_fit_draft(by=lena, base=base, today=TODAY)

    assert fitted.status == ScorecardStatus.DRAFT and fitted.version == base.version + 1
    assert (fitted.watch_from, fitted.healthy_from) == (base.watch_from, base.healthy_from)
    weights = dict(fitted.components.values_list("signal", "weight"))
    assert weights["seat_utilisation"] >= Decimal("0.95")
    assert weights["open_flags"] <= Decimal("0.05")
    assert weights["days_since_last_touch"] == 0
    assert sum(weights.values()) == 1
    assert fitted.notes.startswith("Fitted on 80 renewals of the last 12 months (40 churned or contracted)")
    assert "seat utilisation" in fitted.notes and "separates churned accounts best" in fitted.notes
    assert "days since the last touch earned the same points for every renewal (no data)" in fitted.notes
    # The fitted draft is backtested like any other: it separates as well as the data allows.
    assert health_backtest(scorecard=fitted, today=TODAY).auc == pytest.approx(0.8)


@pytest.mark.django_db
def test_fitting_on_too_few_outcomes_is_refused(lena):
    from django.core.exceptions import ValidationError

    from segmentation.services.health_fit import health_scorecard_fit_draft

    base = health_scorecard_create_draft(by=lena, components=[SEATS])
    _renewal(AccountFactory(), "churned")
    with pytest.raises(ValidationError) as exc:
        health_scorecard_fit_draft(by=lena, base=base, today=TODAY)
    assert exc.value.message_dict["outcomes"] == [
        "Cannot fit weights: Only 1 renewal recorded in the last 12 months: "
        "a backtest needs at least 20 to say anything about churn."
    ]
    assert HealthScorecard.objects.count() == 2  # the active one and the base: nothing new


# --- the leadership pages -----------------------------------------------------------------------


def _signed_in(client, user):
    client.force_login(user)
    return client


def _editor_post(draft: HealthScorecard, **changes: Any) -> dict[str, Any]:
    data = {
        "name": draft.name,
        "watch_from": draft.watch_from,
        "healthy_from": draft.healthy_from,
        "notes": "",
        "components-TOTAL_FORMS": 2,
        "components-INITIAL_FORMS": 1,
        "components-MIN_NUM_FORMS": 0,
        "components-MAX_NUM_FORMS": 1000,
        "components-0-signal": "seat_utilisation",
        "components-0-weight": "1",
        "components-0-steps": "0:0\n0.5:50\n0.8:100",
        "components-0-direction": "higher_is_better",
        "components-0-missing_points": "50",
        "components-1-signal": "",
        "components-1-weight": "",
        "components-1-steps": "",
        "components-1-direction": "any",
        "components-1-missing_points": "50",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_leadership_lists_and_opens_scorecards_and_a_csm_may_not(client, lena, alice, seats_draft):
    _signed_in(client, alice)
    assert client.get("/health-scorecards/").status_code == 403
    assert client.get(f"/health-scorecards/{seats_draft.pk}/").status_code == 403
    assert client.post(f"/health-scorecards/{seats_draft.pk}/fit/").status_code == 403
    _signed_in(client, lena)
    listing = client.get("/health-scorecards/")
    assert listing.status_code == 200
    assert f"v{seats_draft.version}" in listing.text and "Active" in listing.text
    page = client.get(f"/health-scorecards/{seats_draft.pk}/")
    assert page.status_code == 200
    assert "seat utilisation" in page.text and "0.8: 100" in page.text
    assert "Fit weights to outcomes" in page.text and "Activate" in page.text


@pytest.mark.django_db
def test_editing_a_draft_saves_it_and_names_the_component_at_fault(client, lena, seats_draft):
    _signed_in(client, lena)
    url = f"/health-scorecards/{seats_draft.pk}/"
    added = {
        "components-1-signal": "open_flags",
        "components-1-weight": "0.5",
        "components-1-steps": "0:100\n1:0",
        "components-1-direction": "lower_is_better",
        "components-1-missing_points": "100",
    }
    response = client.post(url, _editor_post(seats_draft, watch_from=30, **added))
    assert response.status_code == 302
    seats_draft.refresh_from_db()
    assert seats_draft.watch_from == 30
    assert dict(seats_draft.components.values_list("signal", "weight")) == {
        "seat_utilisation": Decimal("1.000"),
        "open_flags": Decimal("0.500"),
    }

    falling = _editor_post(seats_draft, **added, **{"components-0-steps": "0:100\n0.5:50"})
    response = client.post(url, falling, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "seat_utilisation: points must not fall as the value grows" in response.text
    bad_line = _editor_post(seats_draft, **added, **{"components-0-steps": "0:0\nfifty"})
    assert "Line 2 (fifty): write value:points" in client.post(url, bad_line).text


@pytest.mark.django_db
def test_the_backtest_fragment_shows_the_draft_beside_the_active_scorecard(client, lena, seats_draft):
    for users, outcome in [(30, "churned")] * 10 + [(90, "renewed")] * 10:
        account = AccountFactory()
        _usage(account, on=AS_OF - dt.timedelta(days=7), users=users)
        _renewal(account, outcome)
    _signed_in(client, lena)
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)):
        response = client.get(
            f"/health-scorecards/{seats_draft.pk}/backtest/", headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    active = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)
    assert f"v{seats_draft.version} (draft) · this one" in response.text
    assert f"v{active.version} (active)" in response.text
    assert "<strong>1.000</strong>" in response.text  # the draft separates them perfectly
    assert "100% churned" in response.text


@pytest.mark.django_db
def test_fit_and_activate_from_the_page(client, lena, seats_draft):
    _signed_in(client, lena)
    refused = client.post(f"/health-scorecards/{seats_draft.pk}/fit/", follow=True)
    assert "Cannot fit weights: Only 0 renewals" in refused.text
    response = client.post(f"/health-scorecards/{seats_draft.pk}/activate/")
    assert response.status_code == 302
    seats_draft.refresh_from_db()
    assert seats_draft.status == ScorecardStatus.ACTIVE and seats_draft.activated_by == lena
    assert client.post(f"/health-scorecards/{seats_draft.pk}/activate/").status_code == 409
