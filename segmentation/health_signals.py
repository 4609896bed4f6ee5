"""Health signals that other apps compute: a small registry filled from their AppConfig.ready().

Segmentation scores health but does not know how coverage, flags or touchpoints are kept (they
live in engagement, a higher app it must not import). Engagement registers each of its signals
here with a batch function ``(account_ids, today) -> {account_id: value}`` (an account left out
has no value: the component earns its ``missing_points``).

A signal whose past can be rebuilt may also register a history function
``(account_ids, as_of_dates) -> [value per position]`` (parallel lists; None: no value): the
backtest of a scorecard asks for each account's value on a different past day at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .rules import NUMBER, SIGNALS, TEXT, SignalSpec

BatchFunction = Callable[[Sequence[int], dt.date], dict[int, Any]]
HistoryFunction = Callable[[Sequence[int], Sequence[dt.date]], list[Any]]

# Tier-rule signals a health component may not use: health cannot be scored from itself.
NOT_HEALTH_INPUTS = frozenset({"health_score", "health_band"})


@dataclass(frozen=True)
class HealthSignal:
    spec: SignalSpec
    batch: BatchFunction


_REGISTRY: dict[str, HealthSignal] = {}
_HISTORY: dict[str, HistoryFunction] = {}


def register_health_signal(name: str, spec: SignalSpec, batch_function: BatchFunction) -> None:
    """Make ``name`` available to health components; registering it again replaces it."""
    if name in SIGNALS:
        raise ValueError(f"{name} is a tier-rule signal already; give the health signal another name.")
    if spec.kind != NUMBER:
        raise ValueError("A registered health signal must be a number.")
    _REGISTRY[name] = HealthSignal(spec, batch_function)


def registered_health_signals() -> dict[str, HealthSignal]:
    return dict(_REGISTRY)


def register_health_signal_history(name: str, history_function: HistoryFunction) -> None:
    """How to rebuild registered signal ``name`` as of past days (for backtests)."""
    if name not in _REGISTRY:
        raise ValueError(f"Register the health signal {name} before its history.")
    _HISTORY[name] = history_function


def health_signal_histories() -> dict[str, HistoryFunction]:
    return dict(_HISTORY)


def health_signal_labels() -> dict[str, str]:
    """Every signal a component may use, with its label: the tier-rule vocabulary (numbers and
    yes/no signals) and the registered ones."""
    labels = {
        name: spec.label
        for name, spec in SIGNALS.items()
        if spec.kind != TEXT and name not in NOT_HEALTH_INPUTS
    }
    labels.update({name: signal.spec.label for name, signal in _REGISTRY.items()})
    return labels
