"""Evaluate a batch of accounts and write the outcome: the one place that writes an account's tier.

Reviews, event-driven re-evaluation, initial tiering and override expiry all end in
``evaluate_batch``: per batch it reads tier state, overrides and signals in a handful of queries,
evaluates in Python (``segmentation.engine``), and writes with set-based statements.

Concurrent evaluations of one account (a review chunk and the event task of a sync that changed
it meanwhile) are ordered by when their transactions began: the batch locks its accounts just
before writing, and an account whose state was written by an evaluation begun later (so with
facts at least as new) is left to that one; the stored ``evaluated_at`` is that start. The
account update is also conditional on the tier the batch read, so a concurrent override or
proposal decision wins: an account whose tier moved under the batch is left alone and
re-evaluated by an event task. Locks are held from the writes to the commit only, so callers
keep that part of their transaction short.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from accounts.models import TierSource
from csplatform.dispatch import enqueue

from ..account_metrics import ACCOUNT_FACT_FIELDS, AccountFacts, signals_for
from ..engine import Evaluation, OverrideInfo, PolicySnapshot, evaluate
from ..models import (
    ApplyMode,
    ChangeSource,
    ChangeStatus,
    OverrideReason,
    OverrideStatus,
    PolicyStatus,
    TierChange,
    TierOverride,
    TierPolicy,
)
from ..queries import evaluation as evaluation_sql
from ..rule_inputs import evaluation_key
from ..rules import signals_used
from ..signals import tier_changed, tier_changes_applied
from . import bulk_writes

if TYPE_CHECKING:
    from csplatform.models import User

logger = logging.getLogger(__name__)

# Event batches: one task evaluates at most this many accounts (a few hundred ms of work).
EVENT_BATCH_SIZE = 500
# Rows per VALUES statement: 7 parameters each stays well below driver parameter limits.
WRITE_BATCH = 1000


@dataclass
class BatchOutcome:
    evaluated: int = 0
    applied: int = 0
    proposed: int = 0
    change_ids: list[int] = field(default_factory=list)
    changed_account_ids: list[int] = field(default_factory=list)
    # Accounts whose tier moved under the batch (an override, an event): re-evaluated separately.
    skipped_account_ids: list[int] = field(default_factory=list)
    # Accounts a later evaluation (with newer facts) wrote while this batch ran: left to it.
    overtaken_account_ids: list[int] = field(default_factory=list)


def active_policy_snapshot() -> PolicySnapshot:
    policy = TierPolicy.objects.prefetch_related("tiers").get(status=PolicyStatus.ACTIVE)
    return PolicySnapshot.from_policy(policy)


def load_facts(account_ids: Sequence[int]) -> list[AccountFacts]:
    """The accounts' facts in id order. The ids go as one array: a review chunk loads thousands,
    and an ``IN`` list of that many bound values costs more to build than the rows to read."""
    rows = evaluation_sql.account_facts_of(account_ids=account_ids, fields=ACCOUNT_FACT_FIELDS)
    return [AccountFacts(*row) for row in rows]


def _overrides_for(ids: list[int], today: dt.date, now: dt.datetime) -> dict[int, OverrideInfo]:
    """Active overrides of ``ids``; ones past their expiry are expired here (fallback to the policy)."""
    rows = evaluation_sql.active_overrides_of(account_ids=ids)
    active: dict[int, OverrideInfo] = {}
    expired: list[int] = []
    for override_id, account_id, code, name, rank, username, expires_on, reason, note in rows:
        if expires_on < today:
            expired.append(override_id)
            continue
        active[account_id] = OverrideInfo(
            override_id, code, name, rank, username, expires_on, OverrideReason(reason).label, note
        )
    if expired:
        TierOverride.objects.filter(id__in=expired, status=OverrideStatus.ACTIVE).update(
            status=OverrideStatus.EXPIRED, ended_at=now
        )
    return active


def _proposal_explanation(current: AccountFacts, evaluation: Evaluation) -> str:
    return (
        f"{current.tier_name} until the proposed move to {evaluation.effective_name} is accepted or "
        f"rejected. Proposed because: {evaluation.sentence}"
    )


def evaluate_batch(
    *,
    policy: PolicySnapshot,
    facts: list[AccountFacts],
    source: str,
    review_id: int | None = None,
    today: dt.date | None = None,
    by_id: int | None = None,
    signals: dict[int, dict[str, Any]] | None = None,
    evaluation_keys: dict[int, list[Any]] | None = None,
    read_at: dt.datetime | None = None,
) -> BatchOutcome:
    """Evaluate ``facts`` under ``policy`` and write tiers, state, changes. Call inside a transaction.

    ``signals`` ({account id: {signal: value}}) are the accounts' signals when the caller computed
    them already (a review chunk, ``queries.rule_signals``), and ``evaluation_keys`` their keys
    (``rule_inputs.evaluation_key``); otherwise they are read and computed here. ``read_at`` is
    when ``facts`` were read, when that was before this transaction began (a review chunk's
    candidates); an evaluation that began later and wrote meanwhile wins over this one."""
    now = timezone.now()
    today = today or timezone.localdate()
    outcome = BatchOutcome(evaluated=len(facts))
    if not facts:
        return outcome
    ids = [f.id for f in facts]
    states = evaluation_sql.tier_states_of(account_ids=ids)
    overrides = _overrides_for(ids, today, now)
    proposals = evaluation_sql.open_proposals_of(account_ids=ids)
    if signals is None:
        needed = signals_used(list(policy.rules))
        signals = signals_for(facts, policy=policy, needed=needed, today=today)

    state_rows: list[bulk_writes.StateRow] = []
    account_writes: list[tuple[Any, ...]] = []
    pending_changes: dict[int, bulk_writes.ChangeRow] = {}
    superseded: list[int] = []
    for account in facts:
        state = states.get(account.id)
        if state is not None:
            previous_code, pending, last_review = state
        else:
            previous_code = account.tier_code if account.tier_source != TierSource.OVERRIDE else ""
            pending, last_review = 0, None
        counts_as_review = source == ChangeSource.REVIEW and last_review != review_id
        result = evaluate(
            policy,
            acv=account.acv,
            signals=signals[account.id],
            previous_policy_code=previous_code,
            pending_downgrade_reviews=pending,
            counts_as_review=counts_as_review,
            override=overrides.get(account.id),
        )
        state_rows.append(
            bulk_writes.StateRow(
                account_id=account.id,
                policy_id=policy.id,
                policy_tier_code=result.policy_tier.code,
                policy_tier_rank=result.policy_tier.rank,
                pending_downgrade_reviews=result.pending_downgrade_reviews,
                last_review_id=review_id if source == ChangeSource.REVIEW else last_review,
                steps=result.steps,
                flags=result.flags,
                evaluated_at=now,  # the transaction's start, set when the rows are locked
                evaluated_with=policy.fingerprint,
                evaluated_acv=account.acv,
                tier_written_at=account.tier_updated_at,  # moved to ``now`` below when written
                evaluated_signals=(
                    evaluation_keys[account.id]
                    if evaluation_keys is not None
                    else evaluation_key(policy.rules, signals[account.id])
                    if policy.rules
                    else []
                ),
            )
        )
        rank: int | None
        tier_source: str
        code, name, rank, tier_source, explanation = (
            result.effective_code,
            result.effective_name,
            result.effective_rank,
            result.source,
            result.sentence,
        )
        moves = code != account.tier_code
        proposes = (
            moves
            and policy.apply_mode == ApplyMode.PROPOSE
            and source in (ChangeSource.REVIEW, ChangeSource.EVENT)
            and result.source == TierSource.POLICY
            and account.tier_source == TierSource.POLICY  # an expired override falls back directly
            and account.tier_code != ""
        )
        if account.id in proposals and (not proposes or proposals[account.id] != code):
            superseded.append(account.id)
        if proposes:
            if proposals.get(account.id) != code:
                pending_changes[account.id] = _change(
                    account, result, source, ChangeStatus.PROPOSED, review_id, policy, by_id, None
                )
            code, name, rank, tier_source = (
                account.tier_code,
                account.tier_name,
                account.tier_rank,
                account.tier_source,
            )
            explanation = _proposal_explanation(account, result)
        elif moves:
            change_source = ChangeSource.OVERRIDE if result.source == TierSource.OVERRIDE else source
            pending_changes[account.id] = _change(
                account, result, change_source, ChangeStatus.APPLIED, review_id, policy, by_id, now
            )
        if (code, name, rank, tier_source, explanation) != (
            account.tier_code,
            account.tier_name,
            account.tier_rank,
            account.tier_source,
            account.tier_explanation,
        ):
            account_writes.append(
                (
                    account.id,
                    code,
                    name,
                    rank,
                    tier_source,
                    explanation,
                    account.tier_code,
                    account.tier_source,
                )
            )

    # Lock the batch's accounts for the writes, and leave out those an evaluation begun after
    # this one's reads has written meanwhile: its facts are newer, a stale outcome never
    # overwrites it (a review chunk that read an account before a sync changed it, say).
    read_at, newer = evaluation_sql.lock_for_write(account_ids=ids, read_at=read_at)
    if newer:
        outcome.overtaken_account_ids = sorted(newer)
        account_writes = [row for row in account_writes if row[0] not in newer]
        state_rows = [s for s in state_rows if s.account_id not in newer]
        pending_changes = {a: c for a, c in pending_changes.items() if a not in newer}
        superseded = [a for a in superseded if a not in newer]
    for state_row in state_rows:
        state_row.evaluated_at = read_at
    written = set(bulk_writes.write_account_tiers(account_writes, now))
    outcome.skipped_account_ids = [row[0] for row in account_writes if row[0] not in written]
    skipped = set(outcome.skipped_account_ids)
    json_cache = bulk_writes.JsonCache()
    for state_row in state_rows:
        if state_row.account_id in written:
            state_row.tier_written_at = now
    bulk_writes.upsert_states([s for s in state_rows if s.account_id not in skipped], json_cache)
    if superseded:
        TierChange.objects.filter(
            account_id__in=[a for a in superseded if a not in skipped], status=ChangeStatus.PROPOSED
        ).update(status=ChangeStatus.SUPERSEDED, decided_at=now)
    changes = [c for account_id, c in pending_changes.items() if account_id not in skipped]
    created = bulk_writes.insert_changes(changes, now, json_cache)
    for change in created:
        if change.status == ChangeStatus.APPLIED:
            outcome.applied += 1
            assert change.pk is not None  # set by insert_changes
            outcome.change_ids.append(change.pk)
            outcome.changed_account_ids.append(change.account_id)
        else:
            outcome.proposed += 1
    if outcome.skipped_account_ids:
        # Re-read after the concurrent writer committed: its tier stands, the explanation follows.
        enqueue_reevaluation(account_ids=outcome.skipped_account_ids)
    _send_tier_signals(created, source, review_id)
    return outcome


def _change(
    account: AccountFacts,
    result: Evaluation,
    source: str,
    status: str,
    review_id: int | None,
    policy: PolicySnapshot,
    by_id: int | None,
    applied_at: dt.datetime | None,
) -> bulk_writes.ChangeRow:
    return bulk_writes.ChangeRow(
        account_id=account.id,
        policy_id=policy.id,
        review_id=review_id if source == ChangeSource.REVIEW else None,
        override_id=result.override_id if source == ChangeSource.OVERRIDE else None,
        from_code=account.tier_code,
        from_name=account.tier_name,
        from_rank=account.tier_rank,
        to_code=result.effective_code,
        to_name=result.effective_name,
        to_rank=result.effective_rank,
        explanation=result.sentence,
        steps=result.steps,
        source=source,
        status=status,
        by_id=by_id,
        applied_at=applied_at,
    )


def _send_tier_signals(created: list[bulk_writes.ChangeRow], source: str, review_id: int | None) -> None:
    """Tell higher apps about the applied changes inside the batch's transaction: their receivers
    queue the follow-up in the task outbox, so it commits with the changes (see signals.py)."""
    applied = [c for c in created if c.status == ChangeStatus.APPLIED]
    if not applied:
        return
    if source in (ChangeSource.REVIEW, ChangeSource.INITIAL):
        tier_changes_applied.send(
            sender=TierChange,
            account_ids=[c.account_id for c in applied],
            change_ids=[c.pk for c in applied],
            source=source,
            review_id=review_id,
        )
        return
    for change in applied:
        send_tier_changed(change)


def send_tier_changed(change: Any) -> None:
    """Send tier_changed for one applied change (a TierChange or a ChangeRow), in the transaction
    that applied it."""
    tier_changed.send(
        sender=TierChange,
        account_id=change.account_id,
        from_code=change.from_code,
        to_code=change.to_code,
        source=change.source,
        change_id=change.pk,
    )


def tier_evaluate_accounts(
    *,
    account_ids: Iterable[int],
    source: str = ChangeSource.EVENT,
    by: User | None = None,
    today: dt.date | None = None,
) -> BatchOutcome:
    """Re-evaluate these accounts now under the active policy (events, override expiry, initial)."""
    policy = active_policy_snapshot()
    total = BatchOutcome()
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), EVENT_BATCH_SIZE):
        with transaction.atomic():
            facts = load_facts(ids[start : start + EVENT_BATCH_SIZE])
            part = evaluate_batch(
                policy=policy, facts=facts, source=source, by_id=getattr(by, "pk", None), today=today
            )
        total.evaluated += part.evaluated
        total.applied += part.applied
        total.proposed += part.proposed
        total.change_ids += part.change_ids
        total.changed_account_ids += part.changed_account_ids
    return total


def enqueue_reevaluation(*, account_ids: Iterable[int]) -> None:
    """Queue event re-evaluation in the task outbox (published on commit), EVENT_BATCH_SIZE ids per
    task: one outbox row per batch, never one per account."""
    from ..jobs import reevaluate_accounts

    ids = sorted(set(account_ids))
    for start in range(0, len(ids), EVENT_BATCH_SIZE):
        enqueue(reevaluate_accounts, account_ids=ids[start : start + EVENT_BATCH_SIZE])
