"""Coverage: the module deliveries ledger, and per account and recurring entitlement the last
delivery and the next due day.

``module_delivery_record`` records every delivered module, from whichever channel delivered it
(a touchpoint, a completed task, a sent email), and recomputes the account's coverage.

``coverage_recompute`` rewrites ``EntitlementCoverage`` set-based, in SQL
(``engagement.coverage.queries``): the current figures are computed from the entitlements (tier
under the active policy, plus approved current add-ons) joined to the delivery ledger, then the
table is brought in line with them (changed rows updated, new rows inserted, rows no longer owed
deleted). A row is only written when a figure changed, so a nightly run over 100k accounts mostly
reads. ``coverage_figures_for_accounts`` is the same definition in Python, one account at a time.

Definitions (the same in the dashboard and the worklist):
- a churned account is owed nothing (it has left the active book): its rows are deleted;
- an entitlement recurs when it has a cadence: the tier's (a more frequent current add-on for the
  module wins; it began the day the account took its tier) or, for a module the tier does not
  recur, the current add-ons' (most frequent; it began with the earliest);
- next due = (last delivery day, or the day the entitlement began) + cadence days;
- overdue  = next due is before today;
- planned in window = the deliveries due so far in the trailing window: window / cadence (rounded
  to 3 places) once the entitlement is that old, before that the due days passed since it began,
  i.e. whole cadence periods (0 until the first due day: nothing is owed before it is due);
- share delivered on time over the window = Σ min(delivered, planned) / Σ planned.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import CHURNED_STAGE
from playbooks.selectors import active_policy, approved_add_ons, entitlements_by_tier_code, modules_by_code
from playbooks.services.catalogue import module_get_by_code

from ..clock import due_date, local_date
from ..models import DeliverySource, ModuleDelivery
from ..retention.services import renewal_segments_forget
from .queries import coverage_rewrite

# Accounts per statement in a full recompute: 100k accounts (~250k coverage rows) take about a
# second on PostgreSQL and keep each transaction's locks short.
CHUNK_ACCOUNTS = 100_000
# Explicit id lists (after a delivery, a tier change) are short; longer lists are split.
ID_LIST_CHUNK = 500


def coverage_window_days() -> int:
    return int(settings.COVERAGE_WINDOW_DAYS)


def coverage_recompute(*, account_ids: Iterable[int] | None = None, today: dt.date | None = None) -> None:
    """Bring ``EntitlementCoverage`` up to date for ``account_ids`` (all accounts when None)."""
    policy = active_policy()
    today = today or timezone.localdate()
    if policy is None:
        return
    window_days = coverage_window_days()
    if account_ids is not None:
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), ID_LIST_CHUNK):
            coverage_rewrite(
                policy_id=policy.pk,
                today=today,
                window_days=window_days,
                account_ids=ids[start : start + ID_LIST_CHUNK],
            )
        return
    bounds = Account.objects.order_by("id").values_list("id", flat=True)
    low, high = bounds.first(), bounds.last()
    if low is None or high is None:
        return
    for start in range(low, high + 1, CHUNK_ACCOUNTS):
        coverage_rewrite(
            policy_id=policy.pk,
            today=today,
            window_days=window_days,
            id_range=(start, start + CHUNK_ACCOUNTS - 1),
        )


@dataclass(frozen=True)
class CoverageFigures:
    """What ``EntitlementCoverage`` holds for one account and recurring entitlement."""

    account_id: int
    module_id: int
    cadence_days: int
    is_add_on: bool
    entitled_since: dt.date
    last_delivered_on: dt.date | None
    next_due_on: dt.date
    delivered_in_window: int
    planned_in_window: Decimal

    def is_overdue(self, *, today: dt.date) -> bool:
        return self.next_due_on < today


def coverage_figures_for_accounts(
    *, accounts: Iterable[Account], today: dt.date, window_days: int | None = None
) -> list[CoverageFigures]:
    """The coverage definition (module docstring) in Python, for a few accounts: the figures
    ``coverage_recompute`` stores for them as of ``today``. Three queries.

    The day an account took its tier is the UTC day of ``tier_updated_at`` (``created_at`` when
    it never changed tier), as the database session counts it.
    """
    accounts = list(accounts)
    policy = active_policy()
    if policy is None or not accounts:
        return []
    window = coverage_window_days() if window_days is None else window_days
    recurring = {
        code: {e.module_id: e.cadence_days for e in entitlements if e.cadence_days}
        for code, entitlements in entitlements_by_tier_code(policy=policy).items()
    }
    add_ons: dict[tuple[int, int], tuple[int, dt.date]] = {}
    for add_on in approved_add_ons(account_ids=[a.pk for a in accounts], on=today):
        if add_on.cadence_days is None:
            continue
        key = (add_on.account_id, add_on.module_id)
        cadence, since = add_ons.get(key, (add_on.cadence_days, add_on.starts_on))
        add_ons[key] = (min(cadence, add_on.cadence_days), min(since, add_on.starts_on))
    delivered: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    for account_id, module_id, day in ModuleDelivery.objects.filter(
        account_id__in=[a.pk for a in accounts], delivered_on__lte=today
    ).values_list("account_id", "module_id", "delivered_on"):
        delivered[(account_id, module_id)].append(day)
    figures = []
    for account in accounts:
        if account.lifecycle_stage == CHURNED_STAGE:  # out of the active book: owed nothing
            continue
        took_tier = (account.tier_updated_at or account.created_at).astimezone(dt.UTC).date()
        owed: dict[int, tuple[int, bool, dt.date]] = {}  # module -> (cadence, is add-on, since)
        for module_id, cadence in recurring.get(account.tier_code, {}).items():
            extra = add_ons.get((account.pk, module_id))  # a current add-on for the module
            more_frequent = extra is not None and extra[0] < cadence
            owed[module_id] = (extra[0] if extra and more_frequent else cadence, more_frequent, took_tier)
        for (account_id, module_id), (cadence, since) in add_ons.items():
            if account_id == account.pk and module_id not in owed:
                owed[module_id] = (cadence, True, since)
        for module_id, (cadence, is_add_on, since) in owed.items():
            days = delivered.get((account.pk, module_id), [])
            last = max(days, default=None)
            periods_passed = max(0, (today - since).days) // cadence  # due days passed
            figures.append(
                CoverageFigures(
                    account_id=account.pk,
                    module_id=module_id,
                    cadence_days=cadence,
                    is_add_on=is_add_on,
                    entitled_since=since,
                    last_delivered_on=last,
                    next_due_on=due_date(last=last or since, cadence_days=cadence),
                    delivered_in_window=sum(1 for day in days if day > today - dt.timedelta(days=window)),
                    planned_in_window=min(
                        Decimal(window) / Decimal(cadence), Decimal(periods_passed)
                    ).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
                )
            )
    return figures


@dataclass(frozen=True)
class DeliveryToRecord:
    account_id: int
    region: str
    module_id: int
    delivered_at: dt.datetime
    source_id: int


@transaction.atomic
def module_deliveries_record_many(*, source: str, deliveries: Iterable[DeliveryToRecord]) -> int:
    """``module_delivery_record`` for a batch (a sync of activities): one insert, deliveries
    already in the ledger kept, and coverage recomputed once for the accounts involved."""
    if source not in DeliverySource.values:
        raise ValidationError({"source": [f"Unknown delivery source '{source}'."]})
    rows = [
        ModuleDelivery(
            account_id=d.account_id,
            module_id=d.module_id,
            delivered_at=d.delivered_at,
            delivered_on=local_date(d.delivered_at, region=d.region),
            source=source,
            source_id=d.source_id,
        )
        for d in deliveries
    ]
    if not rows:
        return 0
    ModuleDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    account_ids = sorted({row.account_id for row in rows})
    coverage_recompute(account_ids=account_ids)
    # Activities synced from the CRM are often past ones: the coverage kept before the renewals
    # since the earliest of them may have changed.
    renewal_segments_forget(account_ids=account_ids, renewed_from=min(row.delivered_on for row in rows))
    return len(rows)


@dataclass(frozen=True)
class DeliveryByCode:
    """A delivery named by its module's code, as a sent journey email knows it."""

    account_id: int
    module_code: str
    delivered_at: dt.datetime
    source_id: int


def module_deliveries_record_by_code(
    *, source: str, deliveries: Iterable[DeliveryByCode]
) -> list[DeliveryByCode]:
    """``module_delivery_record`` for a batch named by module code (a sender's sent emails): two
    reads resolve the modules and the accounts' regions, then ``module_deliveries_record_many``.

    Returns the deliveries not recorded because their module or account is unknown.
    """
    deliveries = list(deliveries)
    if not deliveries:
        return []
    modules = {code: module.pk for code, module in modules_by_code().items()}
    regions = dict(
        Account.objects.filter(pk__in={d.account_id for d in deliveries}).values_list("id", "region")
    )
    known = [d for d in deliveries if d.module_code in modules and d.account_id in regions]
    module_deliveries_record_many(
        source=source,
        deliveries=[
            DeliveryToRecord(
                d.account_id, regions[d.account_id], modules[d.module_code], d.delivered_at, d.source_id
            )
            for d in known
        ],
    )
    return [d for d in deliveries if d.module_code not in modules or d.account_id not in regions]


@transaction.atomic
def module_delivery_record(
    *, account_id: int, module_code: str, delivered_at: dt.datetime, source: str, source_id: int | None
) -> ModuleDelivery:
    """Record that ``account_id`` received ``module_code`` at ``delivered_at``.

    Safe to call twice for the same (source, source_id, module): the second call returns the first
    row. The account's coverage is recomputed in the same transaction.
    """
    if source not in DeliverySource.values:
        raise ValidationError({"source": [f"Unknown delivery source '{source}'."]})
    module = module_get_by_code(module_code)
    if module is None:
        raise ValidationError({"module": ["A delivery needs a service module."]})
    account = Account.objects.filter(pk=account_id).only("id", "region").first()
    if account is None:
        raise ValidationError({"account": [f"Unknown account {account_id}."]})
    if source_id is not None:
        existing = ModuleDelivery.objects.filter(source=source, source_id=source_id, module=module).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            delivery = ModuleDelivery.objects.create(
                account_id=account_id,
                module=module,
                delivered_at=delivered_at,
                delivered_on=local_date(delivered_at, region=account.region),
                source=source,
                source_id=source_id,
            )
    except IntegrityError:
        # A concurrent call recorded the same delivery first.
        return ModuleDelivery.objects.get(source=source, source_id=source_id, module=module)
    coverage_recompute(account_ids=[account_id])
    # A delivery logged late changes the coverage kept before the renewals since its day.
    renewal_segments_forget(account_ids=[account_id], renewed_from=delivery.delivered_on)
    return delivery
