"""Retention by segment: GRR, NRR and logo churn per group, exactly as the API contract defines them.

    grr        = Σ min(arr_after, arr_before) ÷ Σ arr_before
    nrr        = Σ arr_after ÷ Σ arr_before
    logo_churn = churned ÷ renewals

Each ratio is a ``Decimal`` rounded to four places with ``ROUND_HALF_UP`` (0.12345 → 0.1235: the
rounding people do by hand, so a figure checked in a spreadsheet agrees); a group whose ARR before
is zero has no GRR/NRR (``None``). A group with no renewals never appears (groups come from the
outcomes themselves). The SQL sums per group (``queries.retention_outcomes``); the ratios are
computed here, once, for the API, the panel, the CSV and the override feedback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import RenewalOutcomeKind
from csplatform import authorization

from .queries import (
    DIMENSIONS,
    GROUP_SEPARATOR,
    OVERRIDE_REASON,
    OVERRIDE_REASON_TIER,
    RetentionOutcome,
    RetentionSums,
    retention_outcomes,
)
from .queries.kept import (
    renewal_segments_forget_sql,
    renewal_segments_settle_sql,
    retention_day_sums_rebuild_sql,
)

FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")

if TYPE_CHECKING:
    from csplatform.models import AnyUser


@dataclass(frozen=True)
class RetentionRow:
    group: str | None  # None on the total row
    renewals: int
    arr_before: Decimal
    arr_after: Decimal
    grr: Decimal | None
    nrr: Decimal | None
    logo_churn: Decimal
    churned: int


@dataclass(frozen=True)
class RetentionReport:
    date_from: dt.date
    date_to: dt.date
    by: str
    rows: list[RetentionRow]
    total: RetentionRow


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """``numerator ÷ denominator`` to four places, half up; ``None`` when the denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def retention_row(sums: RetentionSums, *, group: str | None) -> RetentionRow:
    """One row of the report from a group's sums (the formulas live here and nowhere else)."""
    return RetentionRow(
        group=group,
        renewals=sums.renewals,
        arr_before=Decimal(sums.arr_before).quantize(TWO_PLACES),
        arr_after=Decimal(sums.arr_after).quantize(TWO_PLACES),
        grr=ratio(sums.arr_kept, sums.arr_before),
        nrr=ratio(sums.arr_after, sums.arr_before),
        logo_churn=cast(Decimal, ratio(sums.churned, sums.renewals)),
        churned=sums.churned,
    )


def _total(groups: Iterable[RetentionSums]) -> RetentionSums:
    groups = list(groups)
    return RetentionSums(
        group="",
        renewals=sum(g.renewals for g in groups),
        arr_before=sum((g.arr_before for g in groups), Decimal(0)),
        arr_after=sum((g.arr_after for g in groups), Decimal(0)),
        arr_kept=sum((g.arr_kept for g in groups), Decimal(0)),
        churned=sum(g.churned for g in groups),
    )


def report_from_sums(
    sums: Iterable[RetentionSums], *, date_from: dt.date, date_to: dt.date, by: str
) -> RetentionReport:
    groups = [g for g in sums if g.renewals]
    return RetentionReport(
        date_from=date_from,
        date_to=date_to,
        by=by,
        rows=[retention_row(g, group=g.group) for g in groups],
        total=retention_row(_total(groups), group=None),
    )


def validate_period(
    *, raw_from: Any, raw_to: Any, raw_by: Any, dimensions: Iterable[str] = DIMENSIONS
) -> tuple[dt.date, dt.date, str]:
    """The period and dimension of a request, or a ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, dt.date] = {}
    for field, raw in (("from", raw_from), ("to", raw_to)):
        if raw in (None, ""):
            errors[field] = ["This field is required (YYYY-MM-DD)."]
            continue
        try:
            parsed[field] = dt.date.fromisoformat(str(raw))
        except ValueError:
            errors[field] = ["Date has wrong format. Use YYYY-MM-DD."]
    if "from" in parsed and "to" in parsed and parsed["from"] > parsed["to"]:
        errors["from"] = ["The start of the period must not be after its end."]
    allowed = tuple(dimensions)
    if raw_by in (None, ""):
        errors["by"] = [f"This field is required: one of {', '.join(allowed)}."]
    elif raw_by not in allowed:
        errors["by"] = [f"Unknown dimension {str(raw_by)[:40]!r}: use one of {', '.join(allowed)}."]
    if errors:
        raise ValidationError(errors)
    return parsed["from"], parsed["to"], str(raw_by)


def _visibility(user: AnyUser) -> dict[str, Any]:
    """Which outcomes a person's report covers: everything, or a CSM's own accounts."""
    if not authorization.may_read_retention(user):
        raise PermissionDenied("Retention is reported to CS Leadership, integrations and CSMs.")
    csm_id = authorization.retention_csm_filter(user)
    return {"csm_id": csm_id} if csm_id is not None else {}


def retention_report(*, user: AnyUser, date_from: dt.date, date_to: dt.date, by: str) -> RetentionReport:
    """The report a person may see: leadership and integrations over every account, a CSM over
    the accounts they own."""
    sums = retention_outcomes(date_from=date_from, date_to=date_to, by=by, summed=True, **_visibility(user))
    return report_from_sums(cast(list[RetentionSums], sums), date_from=date_from, date_to=date_to, by=by)


def retention_renewals(
    *, user: AnyUser, date_from: dt.date, date_to: dt.date, by: str, group: str | None
) -> list[RetentionOutcome]:
    """The outcomes behind one number of the report (one group, or all of them)."""
    rows = retention_outcomes(date_from=date_from, date_to=date_to, by=by, group=group, **_visibility(user))
    return cast(list[RetentionOutcome], rows)


@transaction.atomic
def renewal_segments_settle(*, account_ids: Iterable[int] | None = None) -> int:
    """Keep the historical segments of every outcome whose renewal day has ended (in the product's
    time zone) and that has none kept yet, with the day sums of those days; returns how many were
    settled. Nightly, and after the demo history: the report stays right without it (it looks up
    what is not kept), only slower."""
    dates = renewal_segments_settle_sql(
        ended_before=timezone.localdate(),
        account_ids=sorted(set(account_ids)) if account_ids is not None else None,
    )
    if dates:
        retention_day_sums_rebuild_sql(dates=dates)
    return len(dates)


@transaction.atomic
def renewal_segments_forget(*, account_ids: Iterable[int] | None, renewed_from: dt.date | None = None) -> int:
    """Forget the segments kept for the outcomes of ``account_ids`` (None: every account) dated on
    or after ``renewed_from``: for whoever writes history into the past (a delivery logged late,
    demo history), since those segments were answered from it. Returns how many were forgotten."""
    dates = renewal_segments_forget_sql(
        account_ids=sorted(set(account_ids)) if account_ids is not None else None, renewed_from=renewed_from
    )
    if dates:
        retention_day_sums_rebuild_sql(dates=dates)
    return len(dates)


def retention_day_sums_refresh(*, dates: Iterable[dt.date] | None) -> None:
    """Rebuild the day sums of ``dates`` (None: every day) from the outcomes: after outcomes of
    those days were recorded, changed or deleted (their figures are in the sums)."""
    retention_day_sums_rebuild_sql(dates=sorted(set(dates)) if dates is not None else None)


# --- The reference: the same grouping and formulas over outcomes in memory --------------------


def reference_report(
    outcomes: Iterable[tuple[str, str, Decimal, Decimal]], *, date_from: dt.date, date_to: dt.date, by: str
) -> RetentionReport:
    """The report computed in Python from ``(group, outcome, arr_before, arr_after)`` tuples.

    Tests hold it against the SQL (``retention_outcomes(summed=True)``): same groups, same sums.
    """
    totals: dict[str, list[Any]] = {}
    for group, outcome, arr_before, arr_after in outcomes:
        acc = totals.setdefault(group, [0, Decimal(0), Decimal(0), Decimal(0), 0])
        acc[0] += 1
        acc[1] += arr_before
        acc[2] += arr_after
        acc[3] += min(arr_after, arr_before)
        acc[4] += outcome == RenewalOutcomeKind.CHURNED
    sums = [RetentionSums(g, *totals[g]) for g in sorted(totals)]
    return report_from_sums(sums, date_from=date_from, date_to=date_to, by=by)


# --- Override accountability: each reason against its policy-tier peers ----------------------


@dataclass(frozen=True)
class OverrideEvidence:
    reason: str
    overridden: RetentionRow
    peers: RetentionRow | None  # not overridden, in the policy tiers the overridden ones had
    peer_tiers: tuple[str, ...]


def override_evidence(*, date_from: dt.date, date_to: dt.date) -> dict[str, OverrideEvidence]:
    """Per override reason: how accounts renewed while overridden for it, against the accounts of
    the same policy tiers that renewed under the policy.

    One query over the day sums grouped by reason and policy tier (``OVERRIDE_REASON_TIER``): a
    few rows per day, not a year of outcomes. ``override_evidence_from_outcomes`` is the same
    rule over the outcomes one by one; a test holds the two equal."""
    sums = cast(
        list[RetentionSums],
        retention_outcomes(date_from=date_from, date_to=date_to, by=OVERRIDE_REASON_TIER, summed=True),
    )
    by_reason: dict[str, dict[str, RetentionSums]] = {}
    for group in sums:
        if not group.renewals:
            continue
        reason, _, policy_tier = group.group.partition(GROUP_SEPARATOR)
        by_reason.setdefault(reason, {})[policy_tier] = group
    under_policy = by_reason.pop("policy", {})
    evidence: dict[str, OverrideEvidence] = {}
    for reason in sorted(by_reason):
        overridden = by_reason[reason]
        tiers = tuple(sorted(tier for tier in overridden if tier))
        peers = [under_policy[tier] for tier in tiers if tier in under_policy]
        evidence[reason] = OverrideEvidence(
            reason=reason,
            overridden=_total_row(overridden.values()),
            peers=_total_row(peers) if peers else None,
            peer_tiers=tiers,
        )
    return evidence


def _total_row(groups: Iterable[RetentionSums]) -> RetentionRow:
    return retention_row(_total(groups), group=None)


def override_evidence_from_outcomes(*, date_from: dt.date, date_to: dt.date) -> dict[str, OverrideEvidence]:
    """``override_evidence`` from the outcomes one by one (the reference the tests hold it to)."""
    outcomes = cast(
        list[RetentionOutcome],
        retention_outcomes(date_from=date_from, date_to=date_to, by=OVERRIDE_REASON),
    )
    by_reason: dict[str, list[RetentionOutcome]] = {}
    for outcome in outcomes:
        by_reason.setdefault(outcome.group, []).append(outcome)
    under_policy = by_reason.pop("policy", [])
    evidence: dict[str, OverrideEvidence] = {}
    for reason, overridden in by_reason.items():
        tiers = tuple(sorted({o.policy_tier for o in overridden if o.policy_tier}))
        peers = [o for o in under_policy if o.policy_tier in tiers]
        evidence[reason] = OverrideEvidence(
            reason=reason,
            overridden=_row_of(overridden, group=reason),
            peers=_row_of(peers, group="policy") if peers else None,
            peer_tiers=tiers,
        )
    return evidence


def _row_of(outcomes: list[RetentionOutcome], *, group: str) -> RetentionRow:
    report = reference_report(
        ((group, o.outcome, o.arr_before, o.arr_after) for o in outcomes),
        date_from=dt.date.min,
        date_to=dt.date.max,
        by=OVERRIDE_REASON,
    )
    return report.total
