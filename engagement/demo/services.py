"""Demo engagement state for seeded accounts: touchpoints, deliveries, tasks, commitments, flags.

Derived from the seed (same seed, same data) after segmentation gave the accounts their tiers.
Bounded: at most ``DEMO_ACCOUNTS`` accounts get a history, written with bulk inserts, so a seed
of a million accounts stays quick; coverage and flags are then computed set-based for all.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import active_book
from playbooks.models import ServiceModule
from playbooks.selectors import entitlements_by_tier_code

from ..clock import local_date
from ..coverage.services import coverage_recompute, coverage_window_days
from ..flags.services import flags_detect
from ..models import (
    CommitmentStatus,
    DeliverySource,
    HandoffCommitment,
    ModuleDelivery,
    Task,
    Touchpoint,
    TouchpointKind,
)

DEMO_ACCOUNTS = 3000
KIND_FOR_MODULE = {
    "qbr": TouchpointKind.QBR,
    "ebr": TouchpointKind.MEETING,
    "dedicated_specialist": "meeting",
}


def seeded_accounts_tiered() -> bool:
    """True once the seeded accounts have tiers (segmentation's initial tiering ran)."""
    return Account.objects.exclude(tier_code="").exists() or not Account.objects.exists()


@transaction.atomic
def demo_engagement_create(*, seed: int) -> int:
    """Create the demo history unless it exists (safe to run twice). Returns accounts touched."""
    if Touchpoint.objects.exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    by_tier = entitlements_by_tier_code()
    modules = {m.code: m for m in ServiceModule.objects.all()}
    accounts = list(
        active_book()
        .filter(csm__isnull=False)
        .exclude(tier_code="")
        .order_by("pk")
        .only("pk", "region", "tier_code", "csm_id", "ae_id")[:DEMO_ACCOUNTS]
    )
    touchpoints: list[Touchpoint] = []
    tasks: list[Task] = []
    commitments: list[HandoffCommitment] = []
    for account in accounts:
        recurring = [e for e in by_tier.get(account.tier_code, []) if e.cadence_days and e.expected_minutes]
        for entitlement in recurring:
            # Most accounts are served roughly on cadence; some fall behind (overdue).
            diligence = rng.choice([0.6, 0.9, 1.0, 1.0, 1.3, 2.5])
            gap = max(1, int(entitlement.cadence_days * diligence))  # type: ignore[operator]
            at = now - dt.timedelta(days=rng.randint(0, gap), hours=rng.randint(0, 8))
            # Deliveries reach back over the coverage window, so on-time shares mean something.
            for _ in range(min(12, max(1, (coverage_window_days() + gap) // gap))):
                touchpoints.append(
                    Touchpoint(
                        account_id=account.pk,
                        kind=KIND_FOR_MODULE.get(entitlement.module_code, TouchpointKind.CALL),
                        occurred_at=at,
                        minutes=max(5, int(entitlement.expected_minutes * rng.uniform(0.6, 1.4))),
                        logged_by_id=account.csm_id,
                        module=modules[entitlement.module_code],
                        notes=rng.choice(
                            ["Went through goals.", "Reviewed adoption.", "Discussed roadmap.", ""]
                        ),
                    )
                )
                at -= dt.timedelta(days=gap)
        if rng.random() < 0.3:
            tasks.append(
                Task(
                    account_id=account.pk,
                    assignee_id=account.csm_id,
                    title=rng.choice(
                        ["Send the recap", "Check adoption of reporting", "Prepare the QBR deck"]
                    ),
                    due_on=now.date() + dt.timedelta(days=rng.randint(-10, 20)),
                    estimated_minutes=rng.choice([15, 30, 45]),
                    created_by_id=account.csm_id,
                )
            )
        if account.ae_id and rng.random() < 0.03:
            exceeds = rng.random() < 0.5
            commitments.append(
                HandoffCommitment(
                    account_id=account.pk,
                    logged_by_id=account.ae_id,
                    module=modules["catch_up"] if exceeds else None,
                    cadence_days=7 if exceeds else None,
                    description="" if exceeds else "Promised a named contact for onboarding questions.",
                    deal_reference=f"OPP-{rng.randint(10000, 99999)}",
                    status=CommitmentStatus.EXCEEDS_TIER,
                    check_explanation=(
                        f"Promised Catch-up call every 7 days; {account.tier_code} includes less."
                        if exceeds
                        else "A free-text promise needs CS Leadership to check it."
                    ),
                    checked_at=now,
                    checked_tier_code=account.tier_code,
                )
            )
    created = Touchpoint.objects.bulk_create(touchpoints, batch_size=2000)
    regions = {a.pk: a.region for a in accounts}
    ModuleDelivery.objects.bulk_create(
        [
            ModuleDelivery(
                account_id=t.account_id,
                module_id=t.module_id,
                delivered_at=t.occurred_at,
                delivered_on=local_date(t.occurred_at, region=regions[t.account_id]),
                source=DeliverySource.TOUCHPOINT,
                source_id=t.pk,
            )
            for t in created
            if t.module_id
        ],
        batch_size=2000,
    )
    Task.objects.bulk_create(tasks, batch_size=2000)
    HandoffCommitment.objects.bulk_create(commitments)
    coverage_recompute()
    flags_detect()
    return len(accounts)
