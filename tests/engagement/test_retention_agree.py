"""The retention report's SQL sums agree with the Python reference on generated renewals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.retention.queries import retention_outcomes
from engagement.retention.services import reference_report, report_from_sums
from tests.engagement.test_retention import renewal
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

VERTICALS = ["retail", "finance", "saas", ""]
OUTCOMES = st.tuples(
    st.sampled_from(VERTICALS),
    st.sampled_from(["renewed", "expanded", "contracted", "churned"]),
    st.decimals(min_value=Decimal("1.00"), max_value=Decimal("900000.00"), places=2),
    st.integers(min_value=-300, max_value=400),
)


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=st.lists(OUTCOMES, min_size=0, max_size=12))
def test_the_sql_sums_agree_with_the_python_reference(generated: list[tuple[str, str, Decimal, int]]) -> None:
    with rolled_back():
        expected = []
        for vertical, kind, before, day in generated:
            after = {
                "renewed": before,
                "expanded": before + Decimal("10.00"),
                "contracted": (before / 2).quantize(Decimal("0.01")),
                "churned": Decimal("0.00"),
            }[kind]
            account = AccountFactory(vertical=vertical)
            renewal_date = dt.date(2026, 1, 1) + dt.timedelta(days=day)
            renewal(account, renewal_date, kind, str(before), str(after))
            if dt.date(2026, 1, 1) <= renewal_date <= dt.date(2026, 12, 31):
                expected.append((vertical or "unknown", kind, before, after))
        period = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 12, 31), "by": "vertical"}
        sums = retention_outcomes(**period, summed=True)
        from_sql = report_from_sums(sums, **period)  # type: ignore[arg-type]
        assert from_sql == reference_report(expected, **period)
        per_outcome = retention_outcomes(**period)
        rebuilt = [(o.group, o.outcome, o.arr_before, o.arr_after) for o in per_outcome]  # type: ignore[union-attr]
        assert reference_report(rebuilt, **period) == from_sql
