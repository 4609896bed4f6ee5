"""Reads of coverage: an account's entitlements against deliveries, and the share delivered on time
per CSM or per tier (from the materialised coverage table, or from the ledger for a period)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Max, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import in_active_book
from csplatform.models import User
from playbooks.selectors import active_policy, entitlements_for_account

from ..models import (
    CoverageSummary,
    CoverageSummaryBase,
    CoverageSummaryDimension,
    EntitlementCoverage,
    ModuleDelivery,
)
from .queries.panel import PanelRow, coverage_panel_figures
from .queries.period import coverage_share_by_group


@dataclass
class CoverageLine:
    module_code: str
    module_name: str
    cadence_days: int | None
    source: str
    last_delivered_on: dt.date | None
    next_due_on: dt.date | None
    overdue: bool


def coverage_for_account(*, account: Account, today: dt.date | None = None) -> list[CoverageLine]:
    """Each entitlement of the account with its last delivery and next due day (three queries)."""
    today = today or timezone.localdate()
    rows = {row.module_id: row for row in EntitlementCoverage.objects.filter(account=account)}
    last = dict(
        ModuleDelivery.objects.filter(account=account)
        .values("module_id")
        .annotate(last=Max("delivered_on"))
        .values_list("module_id", "last")
    )
    lines = []
    for entitlement in entitlements_for_account(account=account, on=today):
        row = rows.get(entitlement.module_id)
        next_due = row.next_due_on if row and entitlement.cadence_days else None
        lines.append(
            CoverageLine(
                module_code=entitlement.module_code,
                module_name=entitlement.module_name,
                cadence_days=entitlement.cadence_days,
                source=entitlement.source,
                last_delivered_on=last.get(entitlement.module_id),
                next_due_on=next_due,
                overdue=bool(next_due and next_due < today),
            )
        )
    return lines


@dataclass
class CoverageShare:
    key: str
    planned: Decimal
    delivered_on_time: Decimal
    overdue: int
    # Accounts with at least one overdue entitlement (what a drill-down lists), beside ``overdue``
    # which counts entitlements.
    overdue_accounts: int = 0

    @property
    def share(self) -> float | None:
        return float(self.delivered_on_time / self.planned) if self.planned else None


def coverage_share(*, group_by: str, today: dt.date | None = None) -> list[CoverageShare]:
    """Share of entitlements delivered on time over the trailing window, per CSM or per tier.

    ``group_by`` is ``"csm"`` (key: username) or ``"tier"`` (key: tier code). One query over the
    materialised coverage table.
    """
    today = today or timezone.localdate()
    column = {"csm": "account__csm__username", "tier": "account__tier_code"}[group_by]
    rows = (
        EntitlementCoverage.objects.filter(in_active_book(via="account__"))
        .values(column)
        .annotate(
            planned=Sum("planned_in_window"),
            delivered=Sum(
                Least(
                    Cast("delivered_in_window", DecimalField(max_digits=8, decimal_places=3)),
                    "planned_in_window",
                    output_field=DecimalField(max_digits=8, decimal_places=3),
                )
            ),
            overdue=Count("pk", filter=Q(next_due_on__lt=today)),
            overdue_accounts=Count("account", distinct=True, filter=Q(next_due_on__lt=today)),
        )
        .order_by(column)
    )
    return [
        CoverageShare(
            key=row[column] or "",
            planned=Decimal(row["planned"] or 0),
            delivered_on_time=Decimal(row["delivered"] or 0),
            overdue=row["overdue"],
            overdue_accounts=row["overdue_accounts"],
        )
        for row in rows
    ]


def _summary_rows(*, today: dt.date) -> list[dict[str, Any]] | None:
    """The summary folded per dimension and key (three sums and the overdue counts as of
    ``today``); None when ``today`` is before the summary's base day."""
    if _before_summary_base(today):
        return None
    overdue = Q(due_on__isnull=True) | Q(due_on__lt=today)
    rows: Any = (
        CoverageSummary.objects.values("dimension", "key")
        .annotate(
            planned=Sum("planned"),
            delivered=Sum("delivered_on_time"),
            overdue=Coalesce(Sum("entitlements", filter=overdue), 0),
            overdue_accounts=Coalesce(Sum("accounts", filter=overdue), 0),
        )
        .order_by()
    )
    return list(rows)


def _before_summary_base(today: dt.date) -> bool:
    """Whether ``today`` is before the summary's base day: it cannot tell which of the due days it
    folded had passed by then."""
    base = CoverageSummaryBase.objects.filter(pk=1).values_list("base_on", flat=True).first()
    return base is not None and today < base


def _share(row: dict[str, Any], key: str) -> CoverageShare:
    return CoverageShare(
        key=key,
        planned=Decimal(row["planned"] or 0),
        delivered_on_time=Decimal(row["delivered"] or 0),
        overdue=int(row["overdue"]),
        overdue_accounts=int(row["overdue_accounts"]),
    )


def _usernames(csm_keys: Iterable[str]) -> dict[int, str]:
    ids = {int(key) for key in csm_keys if key}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}


def _tier_shares(rows: list[dict[str, Any]]) -> list[CoverageShare]:
    return sorted(
        (_share(r, r["key"]) for r in rows if r["dimension"] == CoverageSummaryDimension.TIER),
        key=lambda s: s.key,
    )


def coverage_shares_from_summary(*, today: dt.date) -> dict[str, list[CoverageShare]] | None:
    """``coverage_share`` per tier and per CSM (keys "tier" and "csm"), read from
    ``CoverageSummary`` (a few rows per tier and CSM, whatever the size of the book) in three
    queries. None when ``today`` is before the summary's base day (it cannot tell which of the
    due days it folded had passed by then): read ``coverage_share`` instead.

    A test holds it equal to ``coverage_share`` over generated books, before and after changes.
    """
    rows = _summary_rows(today=today)
    if rows is None:
        return None
    csm_rows = [r for r in rows if r["dimension"] == CoverageSummaryDimension.CSM]
    usernames = _usernames(r["key"] for r in csm_rows)
    # As ``coverage_share`` orders them: by username, the accounts without a CSM last.
    by_csm = sorted(
        (_share(r, usernames.get(int(r["key"]), "") if r["key"] else "") for r in csm_rows),
        key=lambda s: (s.key == "", s.key),
    )
    return {"tier": _tier_shares(rows), "csm": by_csm}


@dataclass
class PanelCoverage:
    """The coverage panel: every tier, and of the CSMs (the accounts without one count as one)
    the ``shown`` with the most accounts overdue, with how many there are and how many have any."""

    by_tier: list[CoverageShare]
    by_csm: list[CoverageShare]  # key: username ("" for the accounts without a CSM)
    csms: int
    csms_overdue: int
    names: dict[str, str]  # the shown CSMs' display names by username


def _display_names(shares: list[CoverageShare]) -> dict[str, str]:
    """Display names by username of the CSMs of ``shares`` (keyed by username: the drill-down's
    parameter; people read names)."""
    usernames = [share.key for share in shares if share.key]
    people = User.objects.filter(username__in=usernames).only("username", "first_name", "last_name")
    return {person.username: person.display_name for person in people}


def _most_overdue(shares: list[CoverageShare], shown: int) -> list[CoverageShare]:
    """Most accounts overdue first, then the lowest on-time share, then the key (the user id when
    read from the summary, the username when read live: equal figures only change places)."""
    return sorted(shares, key=lambda s: (-s.overdue_accounts, s.share if s.share is not None else 2, s.key))[
        :shown
    ]


def coverage_panel_shares(*, today: dt.date, csms_shown: int) -> PanelCoverage:
    """The panel's figures from the summary (the live ``coverage_share`` when ``today`` is before
    its base day). A team of thousands makes thousands of CSM rows, of which only ``csms_shown``
    are named and drawn; the database folds and ranks them (``queries.panel``), so only those
    reach Python."""
    if _before_summary_base(today):
        live = coverage_share(group_by="csm", today=today)
        shown = _most_overdue(live, csms_shown)
        return PanelCoverage(
            by_tier=coverage_share(group_by="tier", today=today),
            by_csm=shown,
            csms=len(live),
            csms_overdue=sum(1 for s in live if s.overdue_accounts),
            names=_display_names(shown),
        )
    figures = coverage_panel_figures(today=today, shown=csms_shown)
    shown = [_panel_share(row) for row in figures.most_overdue_csms]
    return PanelCoverage(
        by_tier=[_panel_share(row) for row in figures.tiers],
        by_csm=shown,
        csms=figures.csms,
        csms_overdue=figures.csms_overdue,
        names=_display_names(shown),
    )


def _panel_share(row: PanelRow) -> CoverageShare:
    return CoverageShare(
        key=row.key,
        planned=row.planned,
        delivered_on_time=row.delivered_on_time,
        overdue=row.overdue,
        overdue_accounts=row.overdue_accounts,
    )


def overdue_account_ids(
    *, tier_code: str | None, csm_username: str | None, today: dt.date, limit: int, offset: int
) -> tuple[list[int], int]:
    """(one page of the accounts of the active book with an overdue entitlement, largest ACV first;
    how many there are), for a tier or a CSM: the accounts ``overdue_accounts`` counts."""
    overdue = EntitlementCoverage.objects.filter(in_active_book(via="account__"), next_due_on__lt=today)
    accounts = Account.objects.filter(pk__in=overdue.values("account_id"))
    if tier_code is not None:
        accounts = accounts.filter(tier_code=tier_code)
    if csm_username is not None:
        accounts = accounts.filter(csm__username=csm_username)
    ids = list(accounts.order_by("-acv", "id").values_list("pk", flat=True)[offset : offset + limit])
    return ids, accounts.count()


def coverage_share_for_period(*, start: dt.date, end: dt.date, group_by: str) -> list[CoverageShare]:
    """Share delivered on time from ``start`` to ``end`` (inclusive), per CSM or per tier, computed
    from the delivery ledger in one query (for drill-downs; dashboards read ``coverage_share``).

    Entitlements are today's (tier and add-ons); a period in the past is measured against them.
    """
    if end < start:
        raise ValueError("The period ends before it starts.")
    policy = active_policy()
    if policy is None:
        return []
    if group_by not in ("csm", "tier"):
        raise KeyError(group_by)
    rows = coverage_share_by_group(
        policy_id=policy.pk, start=start, end=end, group_by="csm" if group_by == "csm" else "tier"
    )
    return [
        CoverageShare(
            key=key or "",
            planned=Decimal(str(planned or 0)).quantize(Decimal("0.001")),
            delivered_on_time=Decimal(str(delivered or 0)).quantize(Decimal("0.001")),
            overdue=int(overdue or 0),
        )
        for key, planned, delivered, overdue in rows
    ]


@dataclass
class OnTimeCoverage:
    delivered: Decimal
    planned: Decimal
    overdue_accounts: int = 0

    @property
    def percent(self) -> int | None:
        if not self.planned:
            return None
        return min(100, round(100 * self.delivered / self.planned))


def on_time_coverage_for_csm(csm_id: int) -> OnTimeCoverage:
    """Share of the CSM's entitled deliveries made on time in the trailing window (one query)."""
    totals = EntitlementCoverage.objects.filter(
        in_active_book(via="account__"), account__csm_id=csm_id
    ).aggregate(
        delivered=Coalesce(
            Sum(Least(F("delivered_in_window"), F("planned_in_window"), output_field=DecimalField())),
            Value(Decimal(0)),
            output_field=DecimalField(),
        ),
        planned=Coalesce(Sum("planned_in_window"), Value(Decimal(0)), output_field=DecimalField()),
    )
    return OnTimeCoverage(delivered=Decimal(totals["delivered"]), planned=Decimal(totals["planned"]))
