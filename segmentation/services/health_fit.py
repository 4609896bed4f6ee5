"""Fit a scorecard's weights to renewal outcomes: a proposed draft, explained in plain words.

The data is the backtest's (``health_backtest``): every renewal of the last 12 months, each
component's points 90 days before it (rebuilt the same way, never from stored scores, because the
fit needs each component's points). A logistic regression (scikit-learn) of the bad outcome
(churned or contracted) on the components' points gives each component a coefficient; a
component whose higher points go with *less* churn has a negative one. The weights are the
negative coefficients clipped at 0, normalised to sum 1: a component whose higher points went with
*more* churn, or that added nothing, gets weight 0 — and the notes say so. The points steps and
bands are the base scorecard's; only the weights change.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..health import Scorecard
from ..models import HealthScorecard
from .health import scorecard_snapshot
from .health_backtest import backtest_cases, too_few_message
from .health_scorecards import _require_leader, health_scorecard_create_draft, scorecard_components

# A coefficient this small (per 100 points, in log-odds) separates nothing worth a weight.
NEGLIGIBLE = 0.05
WEIGHT_PLACES = Decimal("0.001")


def _coefficients(points: list[tuple[int, ...]], bad: list[bool]) -> list[float]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    features = np.array(points, dtype=float) / 100  # coefficients per 100 points
    model = LogisticRegression(max_iter=1000)
    model.fit(features, np.array(bad, dtype=int))
    return [float(c) for c in model.coef_[0]]


def _weights(raw: list[float]) -> list[Decimal]:
    """``raw`` normalised to sum 1 at three decimals (the rounding remainder goes to the largest)."""
    total = sum(raw)
    weights = [(Decimal(value / total)).quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP) for value in raw]
    largest = max(range(len(raw)), key=lambda i: raw[i])
    weights[largest] += Decimal(1) - sum(weights)
    return weights


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def fit_notes(
    *,
    snapshot: Scorecard,
    renewals: int,
    bad: int,
    coefficients: list[float],
    weights: list[Decimal],
    varied: list[bool],
) -> str:
    """The plain-words account of a fit: what separates churned accounts, what got weight 0 and why."""
    labels = [c.label or c.signal.replace("_", " ") for c in snapshot.components]
    ranked = sorted((i for i, w in enumerate(weights) if w > 0), key=lambda i: (-weights[i], i))
    best = [f"{labels[i]} ({weights[i]:.2f})" for i in ranked]
    verb = "separates" if len(best) == 1 else "separate"
    parts = [
        f"Fitted on {renewals} renewals of the last 12 months ({bad} churned or contracted), by a "
        f"logistic regression of churn or contraction on each component's points 90 days before the "
        f"renewal: {_and(best)} {verb} churned accounts best"
    ]
    flat = [labels[i] for i, w in enumerate(weights) if w == 0 and not varied[i]]
    nothing = [
        labels[i] for i, w in enumerate(weights) if w == 0 and varied[i] and coefficients[i] <= NEGLIGIBLE
    ]
    wrong_way = [
        labels[i] for i, w in enumerate(weights) if w == 0 and varied[i] and coefficients[i] > NEGLIGIBLE
    ]
    if nothing:
        parts.append(f"{_and(nothing)} added nothing and got weight 0")
    if wrong_way:
        parts.append(
            f"{_and(wrong_way)} went with more churn as {'its' if len(wrong_way) == 1 else 'their'} "
            "points rose, so got weight 0"
        )
    if flat:
        parts.append(f"{_and(flat)} earned the same points for every renewal (no data) and got weight 0")
    return "; ".join(parts) + "."


def health_scorecard_fit_draft(
    *, by: Any, base: HealthScorecard, today: dt.date | None = None
) -> HealthScorecard:
    """A new draft with ``base``'s components and bands and weights fitted to the renewal outcomes
    of the last 12 months. Refused (ValidationError on ``outcomes``) when there are too few
    outcomes, or none of the components' points goes with less churn."""
    _require_leader(by)
    today = today or timezone.localdate()
    snapshot = scorecard_snapshot(base)
    cases = backtest_cases(scorecard=snapshot, today=today, use_stored=False)
    bad = sum(1 for case in cases if case.bad)
    message = too_few_message(renewals=len(cases), bad=bad)
    if message:
        raise ValidationError({"outcomes": [f"Cannot fit weights: {message}"]})
    points = [case.points for case in cases]
    varied = [len({row[i] for row in points}) > 1 for i in range(len(snapshot.components))]
    coefficients = _coefficients(points, [case.bad for case in cases])
    raw = [max(0.0, -c) if c < -NEGLIGIBLE else 0.0 for c in coefficients]
    if not any(raw):
        raise ValidationError(
            {
                "outcomes": [
                    f"Cannot fit weights: over {len(cases)} renewals no component's points went with "
                    "less churn, so there is nothing to weigh."
                ]
            }
        )
    weights = _weights(raw)
    components = [
        {**item, "weight": weight} for item, weight in zip(scorecard_components(base), weights, strict=True)
    ]
    notes = fit_notes(
        snapshot=snapshot,
        renewals=len(cases),
        bad=bad,
        coefficients=coefficients,
        weights=weights,
        varied=varied,
    )
    return health_scorecard_create_draft(
        by=by,
        name=f"Fitted from v{base.version}",
        components=components,
        watch_from=base.watch_from,
        healthy_from=base.healthy_from,
        notes=notes,
    )
