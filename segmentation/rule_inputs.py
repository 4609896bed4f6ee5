"""What an evaluation under signal rules read from the signals: its key.

An evaluation's outcome (policy tier, flags, steps, sentence) depends on the signals only through
which rules matched, which of their conditions held, and the values of those held conditions (the
steps show them). ``evaluation_key`` lists, for every condition of every rule in order, the
signal's value where the rule matched and the condition held, and None elsewhere. Two
evaluations with the same key, ACV and policy fingerprint give the same outcome; so a review
skips an account whose key, computed again in SQL from today's usage
(``queries.rule_signals``), is the one its state kept.

Only the signals and operators ``queries.rule_signals`` computes in SQL take that path; a policy
using any other (contacts, the distance to the next threshold, ``in`` over numbers) is evaluated
in Python for every account.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .engine import condition_holds
from .rules import SIGNALS

# The signals ``queries.rule_signals`` computes for a whole chunk in one statement.
SQL_SIGNALS = frozenset(
    {
        "acv",
        "seat_utilisation",
        "active_users_trend_90d",
        "feature_adoption",
        "support_tickets_30d",
        "days_to_renewal",
        "lifecycle_stage",
        "health_score",
        "health_band",
    }
)


def compiles_to_sql(rules: Iterable[dict[str, Any]]) -> bool:
    """True when every condition reads a signal and uses an operator the SQL path computes."""
    for rule in rules:
        for condition in rule["when"]:
            signal = condition["signal"]
            if signal not in SQL_SIGNALS:
                return False
            # ``in`` over numbers compares with Python's mixed int/float/Decimal equality.
            if condition["op"] == "in" and SIGNALS[signal].kind == "number":
                return False
    return True


def _json_value(value: Any) -> Any:
    # Numbers are kept as JSON numbers: jsonb compares them by value (0.85 = 0.850), and every
    # signal is rounded to a few places, exactly representable as a float's shortest repr.
    if isinstance(value, Decimal):
        return float(value)
    return value


def evaluation_key(rules: Iterable[dict[str, Any]], signals: dict[str, Any]) -> list[Any]:
    """The key of an evaluation of ``rules`` on ``signals`` (see the module's docstring)."""
    key: list[Any] = []
    for rule in rules:
        conditions = rule["when"]
        held = [condition_holds(c, signals.get(c["signal"])) for c in conditions]
        matched = all(held) if rule.get("match", "all") == "all" else any(held)
        key.extend(
            _json_value(signals.get(c["signal"])) if matched and holds else None
            for c, holds in zip(conditions, held, strict=True)
        )
    return key
