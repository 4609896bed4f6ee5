"""Journeys that follow the book: late contacts are enrolled, and edits re-plan who is waiting.

- A contact who joins an account after its journeys started (a later contacts sync, a contact
  added by hand) is enrolled like the first ones: the playbook runs that enrolled the account's
  contacts are the record of which journeys the account is in, whatever the order in which the
  CRM sent accounts and contacts.
- A journey's new send window or weekend rule, or a step's new delay, re-plans the contacts
  already waiting: their next due time is computed again from when their previous step went out,
  and a step already due is decided again by the scheduler's own rules (``schedule._decide``), so
  the account page says what the sender will do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Account
from playbooks.models import Journey, PlaybookStep, StepKind

from ..models import (
    EnrolmentStatus,
    JourneyEnrolment,
    OutboundEmailRecord,
    OutboundStatus,
    PlaybookRun,
    StopReason,
)
from .queries import journey_enrolments_write_progress
from .schedule import PlanState, _decide
from .services import enrolment_start_for_account, journey_settings, recipient_zone, step_due_at

# Enrolments re-planned per transaction: short row locks on a journey with many contacts.
REPLAN_BATCH_SIZE = 1000


# --- Late contacts ----------------------------------------------------------------------------


def journeys_of_accounts(account_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """For each account, the journeys its playbook runs enrolled it in that belong to the tier it is
    in now (journey code -> source), as the first contacts were enrolled."""
    accounts = dict(Account.objects.filter(pk__in=list(account_ids)).values_list("pk", "tier_code"))
    runs = PlaybookRun.objects.filter(account_id__in=list(accounts)).values_list(
        "account_id", "playbook_id", "playbook__code", "tier_code"
    )
    steps: dict[int, list[str]] = defaultdict(list)
    playbook_ids = {playbook_id for _, playbook_id, _, _ in runs}
    for playbook_id, journey_code in PlaybookStep.objects.filter(
        playbook_id__in=playbook_ids, kind=StepKind.JOURNEY
    ).values_list("playbook_id", "journey_code"):
        steps[playbook_id].append(journey_code)
    journey_tiers = dict(
        Journey.objects.filter(code__in={c for codes in steps.values() for c in codes}).values_list(
            "code", "tier_code"
        )
    )
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for account_id, playbook_id, playbook_code, run_tier in runs:
        tier = accounts[account_id]
        if run_tier and run_tier != tier:
            continue  # a run of a tier the account has left
        for code in steps.get(playbook_id, []):
            journey_tier = journey_tiers.get(code)
            if journey_tier is None or (journey_tier and journey_tier != tier):
                continue
            found[account_id].setdefault(code, f"playbook:{playbook_code}")
    return dict(found)


@transaction.atomic
def journeys_enrol_late_contacts(*, account_ids: Iterable[int]) -> int:
    """Enrol the contacts of ``account_ids`` in the journeys their accounts are in; returns how many
    were enrolled. Contacts already enrolled (or done, or stopped) are left alone; an account whose
    CSM stopped its enrolments in a journey gets no new ones in it."""
    enrolled = 0
    for account_id, journeys in sorted(journeys_of_accounts(account_ids).items()):
        stopped_by_csm = set(
            JourneyEnrolment.objects.filter(
                account_id=account_id, stop_reason=StopReason.STOPPED_BY_CSM
            ).values_list("journey__code", flat=True)
        )
        for code, source in sorted(journeys.items()):
            if code in stopped_by_csm:
                continue
            enrolled += enrolment_start_for_account(journey_code=code, account_id=account_id, source=source)
    return enrolled


# --- Re-planning after an edit ----------------------------------------------------------------


def journey_replan(
    *, journey_id: int, now: dt.datetime | None = None, batch_size: int = REPLAN_BATCH_SIZE
) -> int:
    """Re-plan the active enrolments of a journey after its timing changed; returns how many were
    re-planned. Safe to run twice (it computes the same plan)."""
    now = now or timezone.now()
    cap = journey_settings().weekly_cap
    after_id, replanned = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                JourneyEnrolment.objects.select_for_update(of=("self",))
                .filter(journey_id=journey_id, status=EnrolmentStatus.ACTIVE, pk__gt=after_id)
                .select_related("journey", "contact", "account")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return replanned
            after_id = batch[-1].pk
            replanned += _replan_batch(batch, now=now, cap=cap)


def _replan_batch(batch: list[JourneyEnrolment], *, now: dt.datetime, cap: int) -> int:
    state = PlanState.load(enrolments=batch, now=now, cap=cap)
    last_sent = dict(
        OutboundEmailRecord.objects.filter(enrolment_id__in=[e.pk for e in batch])
        .exclude(status=OutboundStatus.CANCELLED)
        .values("enrolment_id")
        .annotate(at=Max("created_at"))
        .values_list("enrolment_id", "at")
    )
    changed = []
    for enrolment in batch:
        step = state.step(enrolment.journey_id, enrolment.next_position)
        if step is None:
            continue
        zone = recipient_zone(contact=enrolment.contact, account=enrolment.account)
        due = step_due_at(
            step=step,
            enrolled_at=enrolment.enrolled_at,
            previous_at=last_sent.get(enrolment.pk, enrolment.enrolled_at),
            zone=zone,
        )
        plan = (due, "")
        if due <= now:
            # Due already: decided now, as the next tick will (sent within a minute, or waiting).
            decision = _decide(enrolment, step, at=now, state=state)
            plan = (decision.at, decision.reason[:255]) if decision.kind == "wait" else (now, "")
        if plan != (enrolment.next_due_at, enrolment.waiting_reason):
            enrolment.next_due_at, enrolment.waiting_reason = plan
            changed.append(enrolment)
    journey_enrolments_write_progress(enrolments=changed)
    return len(changed)
