"""Reads shaped for the account pages: who may see which account, the portfolio list, the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from csplatform import authorization

from .models import Account, Contact, LifecycleStage, RenewalOutcome, UsageSnapshot
from .selectors import accounts_visible_to
from .selectors_renewals import account_churn
from .sorting import orm_ordering

if TYPE_CHECKING:
    from csplatform.models import AnyUser

PAGE_SIZE = 50
USAGE_WEEKS = 26


def visible_account_or_404(user: AnyUser, account_id: int, *, related: tuple[str, ...] = ()) -> Account:
    """The account if the person may see it; 404 otherwise (an id outside your book does not exist)."""
    return get_object_or_404(accounts_visible_to(user=user).select_related(*related), pk=account_id)


@dataclass
class AccountPage:
    """A page of accounts and how many match (counted up to ``COUNT_CAP``); one extra row says
    whether there is a next page."""

    rows: list[Account]
    page: int
    has_next: bool
    filters: dict[str, Any] = field(default_factory=dict)
    total: int = 0
    total_capped: bool = False
    page_size: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def filter_accounts(queryset: QuerySet[Account], filters: dict[str, Any]) -> QuerySet[Account]:
    """Apply cleaned list filters: search, tier, lifecycle stage, renewal window, owner."""
    q = (filters.get("q") or "").strip()
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(domain__icontains=q) | Q(external_id=q))
    if filters.get("tier"):
        tier = filters["tier"]
        queryset = queryset.filter(tier_code="") if tier == "none" else queryset.filter(tier_code=tier)
    if filters.get("lifecycle") == "active":
        queryset = queryset.exclude(lifecycle_stage=LifecycleStage.CHURNED)
    elif filters.get("lifecycle"):
        queryset = queryset.filter(lifecycle_stage=filters["lifecycle"])
    if filters.get("renewal_within"):
        today = timezone.localdate()
        queryset = queryset.filter(
            renewal_date__gte=today,
            renewal_date__lte=today + dt.timedelta(days=int(filters["renewal_within"])),
        )
    if filters.get("csm"):
        queryset = queryset.filter(csm_id=filters["csm"])
    if filters.get("ae"):
        queryset = queryset.filter(ae_id=filters["ae"])
    return queryset


# Counting a filtered list stops here: beyond it the pager says "10,000+" (a count over a million
# accounts on every page view would cost more than the page).
COUNT_CAP = 10_000


def account_page(
    user: AnyUser, filters: dict[str, Any], *, page: int = 1, page_size: int = PAGE_SIZE
) -> AccountPage:
    queryset = filter_accounts(accounts_visible_to(user=user), filters)
    queryset = queryset.order_by(*orm_ordering(filters.get("order") or "name"))
    start = (page - 1) * page_size
    rows = list(queryset[start : start + page_size + 1])
    total = queryset.order_by()[: COUNT_CAP + 1].count()
    return AccountPage(
        rows=rows[:page_size],
        page=page,
        has_next=len(rows) > page_size,
        filters=filters,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
        page_size=page_size,
    )


EXPORT_COLUMNS = (
    "External id",
    "CRM",
    "Name",
    "Domain",
    "Tier",
    "Tier source",
    "ACV",
    "Lifecycle stage",
    "Renewal date",
    "CSM",
    "AE",
    "Region",
    "Vertical",
)


def account_export_rows(user: AnyUser, filters: dict[str, Any]) -> Iterator[list[Any]]:
    """The filtered accounts the person may see, streamed in id order for a CSV export."""
    queryset = filter_accounts(accounts_visible_to(user=user), filters).order_by("id")
    for account in queryset.iterator(chunk_size=2000):
        yield [
            account.external_id,
            account.crm_source,
            account.name,
            account.domain,
            account.tier_code,
            account.tier_source,
            account.acv,
            account.lifecycle_stage,
            account.renewal_date,
            account.csm.username if account.csm else "",
            account.ae.username if account.ae else "",
            account.region,
            account.vertical,
        ]


def tier_choices_for(user: AnyUser) -> list[tuple[str, str]]:
    """The tiers present in what the person can see (small: one index scan)."""
    rows = (
        Account.objects.filter(authorization.account_scope(user))
        .exclude(tier_code="")
        .order_by("tier_rank", "tier_code")
        .values_list("tier_code", "tier_name")
        .distinct()
    )
    seen: dict[str, str] = {}
    for code, name in rows:
        seen.setdefault(code, name)
    return list(seen.items())


@dataclass
class AccountDetail:
    account: Account
    contacts: list[Contact]
    usage: list[UsageSnapshot]
    usage_chart: dict[str, Any]
    utilisation_chart: dict[str, Any]
    tickets_chart: dict[str, Any]
    churn: RenewalOutcome | None = None

    @property
    def latest_usage(self) -> UsageSnapshot | None:
        return self.usage[-1] if self.usage else None


def account_detail(user: AnyUser, account_id: int) -> AccountDetail:
    account = visible_account_or_404(user, account_id, related=("csm", "ae"))
    contacts = list(account.contacts.order_by("-is_executive", "-is_champion", "name", "id"))
    usage = list(account.usage_snapshots.order_by("-period_start")[:USAGE_WEEKS])
    usage.reverse()
    labels = [s.period_start.isoformat() for s in usage]
    return AccountDetail(
        account=account,
        contacts=contacts,
        usage=usage,
        churn=account_churn(account),
        usage_chart={
            "type": "line",
            "labels": labels,
            "yLabel": "people",
            "datasets": [
                {"label": "Active users", "data": [s.active_users for s in usage]},
                {"label": "Licensed seats", "data": [s.licensed_seats for s in usage], "color": "#8fb0ef"},
            ],
        },
        utilisation_chart={
            "type": "line",
            "labels": labels,
            "yLabel": "% of seats in use",
            "datasets": [
                {
                    "label": "Seat utilisation %",
                    "data": [
                        round(s.seat_utilisation * 100, 1) if s.seat_utilisation is not None else None
                        for s in usage
                    ],
                }
            ],
        },
        tickets_chart={
            "type": "bar",
            "labels": labels,
            "yLabel": "tickets",
            "datasets": [
                {"label": "Support tickets", "data": [s.support_tickets for s in usage], "color": "#f0a500"}
            ],
        },
    )


@dataclass
class SearchResults:
    accounts: list[Account]
    contacts: list[Contact]

    @property
    def empty(self) -> bool:
        return not self.accounts and not self.contacts


def global_search(user: AnyUser, q: str, *, limit: int) -> SearchResults:
    """Accounts (name, domain, CRM id) and contacts (name, email) matching ``q`` among those the
    person may see: two queries whatever the book's size (each capped at ``limit``)."""
    if len(q) < 2:
        return SearchResults(accounts=[], contacts=[])
    accounts = (
        accounts_visible_to(user=user)
        .filter(Q(name__icontains=q) | Q(domain__icontains=q) | Q(external_id=q))
        .select_related(None)
        .only("id", "name", "domain", "tier_code", "tier_name", "tier_rank")
        .order_by("name", "id")[:limit]
    )
    contacts = (
        Contact.objects.filter(authorization.account_scope(user, via="account__"))
        .filter(Q(name__icontains=q) | Q(email__icontains=q))
        .select_related("account")
        .only("id", "name", "email", "role", "account__id", "account__name")
        .order_by("name", "id")[:limit]
    )
    return SearchResults(accounts=list(accounts), contacts=list(contacts))
