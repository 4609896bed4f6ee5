"""Starting playbooks: one run per (playbook, account, event), its steps become tasks or enrolments."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, RenewalOutcome
from accounts.selectors import active_book
from csplatform.bulk import rows_insert_new
from playbooks.models import Playbook, PlaybookStep, StepKind, Trigger
from playbooks.selectors import playbooks_for

from ..clock import account_today
from ..models import PlaybookRun, Task, TaskStatus

logger = logging.getLogger(__name__)


@transaction.atomic
def playbook_run_start(*, playbook: Playbook, account: Account, key: str) -> PlaybookRun | None:
    """Run ``playbook`` for ``account`` because of event ``key``; None if that event already ran it."""
    runs = playbook_runs_start_many(playbook=playbook, targets=[(account, key)])
    return runs[0] if runs else None


# Runs and tasks written per statement when many accounts start a playbook at once (a nightly
# renewal pass, a flag sweep): bounded memory, and one INSERT per batch instead of one per row.
RUN_BATCH = 2000


@transaction.atomic
def playbook_runs_start_many(
    *, playbook: Playbook, targets: Iterable[tuple[Account, str]]
) -> list[PlaybookRun]:
    """Start ``playbook`` for many (account, event key) pairs set-based; pairs that already ran
    are skipped. Returns the runs started."""
    steps = list(playbook.steps.all())
    targets = [(account, key[:80]) for account, key in targets]
    started: list[PlaybookRun] = []
    for offset in range(0, len(targets), RUN_BATCH):
        batch = targets[offset : offset + RUN_BATCH]
        done = set(
            PlaybookRun.objects.filter(
                playbook=playbook, account_id__in=[a.pk for a, _ in batch], key__in={k for _, k in batch}
            ).values_list("account_id", "key")
        )
        fresh: dict[tuple[int, str], Account] = {}
        for account, key in batch:
            if (account.pk, key) not in done:
                fresh.setdefault((account.pk, key), account)
        if not fresh:
            continue
        rows = [
            PlaybookRun(playbook=playbook, account_id=account_id, key=key, tier_code=playbook.tier_code)
            for account_id, key in fresh
        ]
        # Another worker may have started some of them meanwhile: those are skipped.
        runs = rows_insert_new(rows)
        _steps_apply(playbook, steps, [(fresh[(run.account_id, run.key)], run) for run in runs])
        started.extend(runs)
    return started


def _steps_apply(
    playbook: Playbook, steps: list[PlaybookStep], runs: list[tuple[Account, PlaybookRun]]
) -> None:
    tasks = []
    for account, run in runs:
        today = account_today(region=account.region)
        for step in steps:
            if step.kind == StepKind.TASK:
                tasks.append(
                    Task(
                        account_id=account.pk,
                        assignee_id=account.csm_id,
                        title=step.title,
                        description=step.description,
                        checklist=list(step.checklist or []),
                        due_on=today + dt.timedelta(days=step.due_offset_days),
                        module_id=step.module_id,
                        estimated_minutes=step.estimated_minutes,
                        playbook_run=run,
                        tier_code=playbook.tier_code,
                    )
                )
            elif step.kind == StepKind.JOURNEY:
                journey_enrol(
                    journey_code=step.journey_code, account_id=account.pk, source=f"playbook:{playbook.code}"
                )
    Task.objects.bulk_create(tasks, batch_size=RUN_BATCH)


def journey_enrol(*, journey_code: str, account_id: int, source: str) -> bool:
    """Enrol the account's contacts in a journey through the journeys service, if it is installed."""
    try:
        from ..journeys import services as journeys
    except ImportError:
        journeys = None  # type: ignore[assignment]
    start = getattr(journeys, "enrolment_start_for_account", None)
    if start is None:
        logger.info(
            "journeys are not available; skipped enrolling account %s in %s", account_id, journey_code
        )
        return False
    try:
        start(journey_code=journey_code, account_id=account_id, source=source)
    except ValidationError as exc:
        # A playbook naming a journey that was renamed or removed must not block its tasks.
        logger.warning("could not enrol account %s in journey %s: %s", account_id, journey_code, exc.messages)
        return False
    return True


def playbooks_start(
    *, account: Account, trigger: str, key: str, tier_code: str | None = None, flag_kind: str = ""
) -> list[PlaybookRun]:
    """Start every active playbook for ``trigger`` that applies to the account's (or given) tier."""
    tier = account.tier_code if tier_code is None else tier_code
    runs = []
    for playbook in playbooks_for(trigger=trigger, tier_code=tier, flag_kind=flag_kind):
        run = playbook_run_start(playbook=playbook, account=account, key=key)
        if run is not None:
            runs.append(run)
    return runs


@transaction.atomic
def tier_change_handle(*, account_id: int, from_code: str, to_code: str, change_id: int) -> None:
    """An account changed tier: cancel the old tier's playbook tasks, start left/entered playbooks,
    re-check open commitments and recompute coverage. Safe to run twice (runs are keyed)."""
    tier_changes_handle(changes=[TierMove(change_id, account_id, from_code, to_code)])


@dataclass(frozen=True)
class TierMove:
    change_id: int
    account_id: int
    from_code: str
    to_code: str


@transaction.atomic
def tier_changes_handle(*, changes: Iterable[TierMove]) -> None:
    """Many applied tier changes at once (a review chunk), set-based: one cancel per tier left,
    each playbook started for all its accounts in batches, one commitment re-check and one
    coverage recompute for all the accounts."""
    from ..coverage.services import coverage_recompute
    from ..handoffs.services import commitments_recheck

    moves = [m for m in changes if m.from_code != m.to_code]
    accounts = Account.objects.only("pk", "region", "csm_id", "tier_code").in_bulk(
        {m.account_id for m in moves}
    )
    moves = [m for m in moves if m.account_id in accounts]
    if not moves:
        return
    left: dict[str, list[TierMove]] = defaultdict(list)
    entered: dict[str, list[TierMove]] = defaultdict(list)
    for move in moves:
        if move.from_code:
            left[move.from_code].append(move)
        if move.to_code:
            entered[move.to_code].append(move)
    for tier_code, tier_moves in left.items():
        Task.objects.filter(
            account_id__in=[m.account_id for m in tier_moves],
            tier_code=tier_code,
            status=TaskStatus.OPEN,
            playbook_run__isnull=False,
        ).update(status=TaskStatus.CANCELLED, cancelled_reason=f"The account left {tier_code}.")
    for trigger, by_tier in ((Trigger.LEFT_TIER, left), (Trigger.ENTERED_TIER, entered)):
        for tier_code, tier_moves in by_tier.items():
            for playbook in playbooks_for(trigger=trigger, tier_code=tier_code):
                targets = [(accounts[m.account_id], f"tier_change:{m.change_id}") for m in tier_moves]
                playbook_runs_start_many(playbook=playbook, targets=targets)
    account_ids = sorted({m.account_id for m in moves})
    commitments_recheck(account_ids=account_ids)
    coverage_recompute(account_ids=account_ids)


def renewal_playbooks_start(*, today: dt.date | None = None) -> int:
    """Start 'renewal in N days' playbooks for accounts renewing within N days (once per renewal)."""
    today = today or timezone.localdate()
    started = 0
    for playbook in Playbook.objects.filter(is_active=True, trigger=Trigger.RENEWAL_IN_DAYS).prefetch_related(
        "steps"
    ):
        accounts = (
            active_book()
            .filter(
                renewal_date__gte=today,
                renewal_date__lte=today + dt.timedelta(days=playbook.renewal_days or 0),
            )
            .only("pk", "region", "csm_id", "renewal_date", "tier_code")
        )
        if playbook.tier_code:
            accounts = accounts.filter(tier_code=playbook.tier_code)
        targets = [
            (account, f"renewal:{account.renewal_date.isoformat()}")  # type: ignore[union-attr]
            for account in accounts.iterator(chunk_size=RUN_BATCH)
        ]
        started += len(playbook_runs_start_many(playbook=playbook, targets=targets))
    return started


def onboarding_playbooks_start(*, account_ids: Iterable[int]) -> int:
    """Start 'onboarding started' playbooks for accounts now in the onboarding stage (once each)."""
    started = 0
    for account in Account.objects.filter(pk__in=list(account_ids), lifecycle_stage="onboarding"):
        key = f"onboarding:{account.contract_start or account.created_at.date()}"
        started += len(playbooks_start(account=account, trigger=Trigger.ONBOARDING_STARTED, key=key))
    return started


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
