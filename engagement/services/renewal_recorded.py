"""Playbooks on a recorded renewal outcome (the ``renewal_recorded`` trigger)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from accounts.models import Account, RenewalOutcome
from playbooks.models import Trigger
from playbooks.selectors import playbooks_for

from .playbook_runs import playbook_runs_start_many


@transaction.atomic
def renewal_recorded_playbooks_start(*, renewal_ids: Iterable[int]) -> int:
    """Start the ``renewal_recorded`` playbooks of each outcome's account tier; returns runs started.

    A run is keyed by the outcome and its value, so handling the same outcome twice starts nothing,
    while a corrected outcome (churned after all) starts the playbooks again.
    """
    renewals = list(RenewalOutcome.objects.filter(pk__in=list(renewal_ids)).select_related("account"))
    by_tier: dict[str, list[tuple[Account, str]]] = defaultdict(list)
    for renewal in renewals:
        by_tier[renewal.account.tier_code].append(
            (renewal.account, f"renewal:{renewal.pk}:{renewal.outcome}")
        )
    started = 0
    for tier_code, targets in by_tier.items():
        for playbook in playbooks_for(trigger=Trigger.RENEWAL_RECORDED, tier_code=tier_code):
            started += len(playbook_runs_start_many(playbook=playbook, targets=targets))
    return started
