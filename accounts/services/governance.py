"""Who writes an account, decided once for the API, the pages and the admin.

- The fields that decide a tier (``TIER_INPUT_FIELDS``: ACV, lifecycle stage, renewal date) are
  written by the CRM integration and CS Leadership. The account's CSM may ask for a change to them:
  it waits as an ``AccountInputProposal`` until CS Leadership approves it (then it is written, with
  the field history and the tier re-evaluation of any other change) or declines it. A CSM who wants
  a different tier meanwhile overrides it, with the override's approval rules.
- Moving an account to another CSM or AE is for leadership and integrations.
- Owners hold the role that goes with the field (``accounts.account_update`` checks it).

``tier_input_changes_caused_by`` tells the tier-proposal rule whether a person's own change is what
moved an account (``segmentation.services.proposals``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from csplatform import authorization
from csplatform.models import User

from ..models import (
    TIER_INPUT_FIELDS,
    Account,
    AccountFieldChange,
    AccountInputProposal,
    InputProposalStatus,
)
from .accounts import account_update, dates_error, history_text, owner_errors, reassigns_owner

# The field history's source for values written by approving an input proposal.
INPUT_PROPOSAL_SOURCE = "input-proposal"


@dataclass(frozen=True)
class AccountEdit:
    """What an edit did: the account as stored, and the proposal its tier inputs wait in (if any)."""

    account: Account
    proposal: AccountInputProposal | None = None


def _proposed_inputs(account: Account, data: Mapping[str, Any]) -> dict[str, str]:
    """The tier inputs in ``data`` that differ from the account's, as history text."""
    proposed: dict[str, str] = {}
    for field in TIER_INPUT_FIELDS:
        if field in data and history_text(data[field]) != history_text(getattr(account, field)):
            proposed[field] = history_text(data[field])
    return proposed


def _parsed(changes: Mapping[str, str]) -> dict[str, Any]:
    """Proposal text back to field values (through the model fields' own parsing)."""
    values: dict[str, Any] = {}
    for field, text in changes.items():
        model_field = Account._meta.get_field(field)
        assert isinstance(model_field, models.Field)
        values[field] = model_field.to_python(text) if text != "" else None
    return values


def account_edit_check(
    *, account: Account | None, actor: User, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Decide an edit (``account``) or a creation (``account=None``) by ``actor`` without writing:
    the fields to write now, and the tier inputs to propose (as text).

    Raises PermissionDenied or ValidationError (field-keyed), as ``account_edit`` would. The admin
    form asks it while validating, so a refused change shows on the form.
    """
    if account is None:
        if not authorization.may_create_accounts(actor):
            raise PermissionDenied("Only CS Leadership and integrations create accounts.")
        owner_errors(account=None, data=data)
        errors = dates_error(data.get("contract_start"), data.get("renewal_date"))
        if errors:
            raise ValidationError(errors)
        return dict(data), {}
    if not authorization.may_edit_account(actor, account):
        raise PermissionDenied("Your role may not change this account.")
    if not authorization.may_reassign_owners(actor) and reassigns_owner(account, data):
        raise PermissionDenied("Only CS Leadership can move an account to another CSM or AE.")
    owner_errors(account=account, data=data)
    direct = dict(data)
    proposed: dict[str, str] = {}
    if not authorization.may_write_tier_inputs(actor):
        proposed = _proposed_inputs(account, direct)
        for field in TIER_INPUT_FIELDS:
            direct.pop(field, None)
        if proposed and not authorization.may_propose_tier_inputs(actor, account):
            raise PermissionDenied("Only the account's CSM may propose a change to its tier inputs.")
    wanted = {**_parsed(proposed), **direct}
    errors = dates_error(
        wanted.get("contract_start", account.contract_start), wanted.get("renewal_date", account.renewal_date)
    )
    if errors:
        raise ValidationError(errors)
    return direct, proposed


@transaction.atomic
def account_edit(
    *,
    account: Account,
    actor: User,
    source: str,
    data: Mapping[str, Any],
    expected_version: str | None = None,
) -> AccountEdit:
    """Edit an account as ``actor``: the fields they may write are written, tier inputs they may not
    write become (or replace) the account's pending input proposal.

    Raises PermissionDenied when ``actor`` may not edit the account or move it to another owner,
    ValidationError (field-keyed) for bad values, AccountConflict on a stale ``expected_version``.
    """
    direct, proposed = account_edit_check(account=account, actor=actor, data=data)
    saved = account_update(
        account=account, actor=actor, source=source, data=direct, expected_version=expected_version
    )
    proposal = (
        _input_proposal_open(account=saved, by=actor, source=source, changes=proposed) if proposed else None
    )
    return AccountEdit(account=saved, proposal=proposal)


def _input_proposal_open(
    *, account: Account, by: User, source: str, changes: dict[str, str]
) -> AccountInputProposal:
    """Open the account's input proposal, or fold these changes into the pending one."""
    pending = (
        AccountInputProposal.objects.select_for_update()
        .filter(account=account, status=InputProposalStatus.PENDING)
        .first()
    )
    previous = {field: history_text(getattr(account, field)) for field in changes}
    if pending is None:
        return AccountInputProposal.objects.create(
            account=account, changes=changes, previous=previous, requested_by=by, source=source[:40]
        )
    pending.changes = {**pending.changes, **changes}
    pending.previous = {**previous, **pending.previous}
    pending.requested_by = by
    pending.source = source[:40]
    pending.save(update_fields=["changes", "previous", "requested_by", "source"])
    return pending


def _lock_pending(proposal: AccountInputProposal, by: User) -> AccountInputProposal:
    if not authorization.may_decide_approvals(by):
        raise PermissionDenied("Only CS Leadership decides changes to an account's tier inputs.")
    locked = (
        AccountInputProposal.objects.select_for_update(no_key=True)
        .select_related("account")
        .get(pk=proposal.pk)
    )
    if locked.status != InputProposalStatus.PENDING:
        raise ValidationError({"status": [f"This proposal is already {locked.status}."]})
    if locked.requested_by_id == by.pk:
        raise PermissionDenied("A change you asked for is decided by someone else.")
    return locked


@transaction.atomic
def account_input_proposal_approve(
    *, proposal: AccountInputProposal, by: User, note: str = ""
) -> AccountInputProposal:
    """Write the proposed tier inputs (as ``by``, with the field history and re-evaluation)."""
    locked = _lock_pending(proposal, by)
    account_update(account=locked.account, actor=by, source="input-proposal", data=_parsed(locked.changes))
    return _decide(locked, by, InputProposalStatus.APPROVED, note)


@transaction.atomic
def account_input_proposal_decline(
    *, proposal: AccountInputProposal, by: User, note: str = ""
) -> AccountInputProposal:
    """Decline a proposal: the account keeps its values."""
    return _decide(_lock_pending(proposal, by), by, InputProposalStatus.DECLINED, note)


def _decide(
    proposal: AccountInputProposal, by: User, status: InputProposalStatus, note: str
) -> AccountInputProposal:
    proposal.status = status
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.decision_note = (note or "").strip()
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return proposal


def tier_input_changes_caused_by(
    *, account_id: int, user: User, since: dt.datetime | None, until: dt.datetime
) -> bool:
    """Whether ``user`` changed (or asked for an approved change to) the account's tier inputs in
    ``(since, until]``: the window between its last applied tier change and a new proposal."""
    window: dict[str, Any] = {"changed_at__lte": until}
    if since is not None:
        window["changed_at__gt"] = since
    # A change written by approving someone's input proposal is caused by whoever asked for it:
    # the approver is the second person, not the cause.
    if (
        AccountFieldChange.objects.filter(
            account_id=account_id, field__in=TIER_INPUT_FIELDS, changed_by=user, **window
        )
        .exclude(source=INPUT_PROPOSAL_SOURCE)
        .exists()
    ):
        return True
    asked: dict[str, Any] = {"decided_at__lte": until}
    if since is not None:
        asked["decided_at__gt"] = since
    return AccountInputProposal.objects.filter(
        account_id=account_id, requested_by=user, status=InputProposalStatus.APPROVED, **asked
    ).exists()
