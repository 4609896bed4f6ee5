"""Hooks for the what-if simulation that higher apps fill in their ready().

Entitlements (and so CSM hours) live in the playbooks app. It registers an estimator::

    from segmentation.simulation import register_hours_estimator
    register_hours_estimator(weekly_hours_by_tier)

``estimator(counts: dict[str, int]) -> dict[str, float]`` receives account counts per tier code
and returns the CSM hours per week each tier needs. Until one is registered, hours are None.
"""

from __future__ import annotations

from collections.abc import Callable

HoursEstimator = Callable[[dict[str, int]], dict[str, float]]
_hours_estimator: HoursEstimator | None = None


def register_hours_estimator(estimator: HoursEstimator | None) -> None:
    global _hours_estimator
    _hours_estimator = estimator


def estimate_hours(counts: dict[str, int]) -> dict[str, float] | None:
    if _hours_estimator is None:
        return None
    return _hours_estimator(counts)
