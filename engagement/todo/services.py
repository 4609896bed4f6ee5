"""CSM tasks: created by playbooks or by hand, completed (recording a delivery), snoozed, cancelled."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from csplatform import authorization, bounds
from playbooks.services.catalogue import module_get_by_code

from ..clock import account_today
from ..coverage.services import module_delivery_record
from ..models import DeliverySource, Task, TaskStatus

if TYPE_CHECKING:
    from csplatform.models import User


def _clean_checklist(checklist: Any) -> list[str]:
    if checklist in (None, ""):
        return []
    if not isinstance(checklist, list) or not all(isinstance(item, str) for item in checklist):
        raise ValidationError({"checklist": ["The checklist is a list of short texts."]})
    return [item.strip() for item in checklist if item.strip()]


@transaction.atomic
def task_create(
    *,
    by: User,
    account: Account,
    title: str,
    due_on: dt.date,
    description: str = "",
    checklist: list[str] | None = None,
    module_code: str | None = None,
    estimated_minutes: int = 30,
) -> Task:
    """A task created by hand, assigned to the account's CSM (or the creator when there is none)."""
    if not authorization.may_work_on(by, account):
        raise PermissionDenied("You may only create tasks on accounts you own.")
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["Give the task a title."]
    try:
        bounds.ESTIMATED_MINUTES.check(
            estimated_minutes if estimated_minutes is not None else "", field="estimated_minutes"
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    module = module_get_by_code(module_code)
    return Task.objects.create(
        account=account,
        assignee_id=account.csm_id or by.pk,
        title=title.strip(),
        description=description,
        checklist=_clean_checklist(checklist),
        due_on=due_on,
        module=module,
        estimated_minutes=estimated_minutes,
        created_by=by,
    )


@transaction.atomic
def task_complete(*, by: User, task: Task, completed_at: dt.datetime | None = None) -> Task:
    """Mark a task done; a task linked to a module records that module's delivery.

    Completing a task twice changes nothing the second time.
    """
    locked = Task.objects.select_for_update(of=("self",)).select_related("account", "module").get(pk=task.pk)
    if not authorization.may_do_cs_work(by, locked.account, assignee_id=locked.assignee_id):
        raise PermissionDenied("Only the account's CSM, the assignee or CS Leadership may complete tasks.")
    if locked.status == TaskStatus.DONE:
        return locked
    if locked.status == TaskStatus.CANCELLED:
        raise ValidationError({"status": ["This task was cancelled and cannot be completed."]})
    locked.status = TaskStatus.DONE
    locked.completed_at = completed_at or timezone.now()
    locked.completed_by = by
    locked.snoozed_until = None
    locked.snooze_reason = ""
    locked.save(update_fields=["status", "completed_at", "completed_by", "snoozed_until", "snooze_reason"])
    if locked.module is not None:
        module_delivery_record(
            account_id=locked.account_id,
            module_code=locked.module.code,
            delivered_at=locked.completed_at,
            source=DeliverySource.TASK,
            source_id=locked.pk,
        )
    return locked


@transaction.atomic
def task_snooze(*, by: User, task: Task, until: dt.date, reason: str) -> Task:
    """Hide an open task from the worklist until ``until``; a reason is required."""
    locked = Task.objects.select_for_update(no_key=True).select_related("account").get(pk=task.pk)
    if not authorization.may_do_cs_work(by, locked.account, assignee_id=locked.assignee_id):
        raise PermissionDenied("Only the account's CSM, the assignee or CS Leadership may snooze tasks.")
    errors: dict[str, list[str]] = {}
    if locked.status != TaskStatus.OPEN:
        errors["status"] = ["Only an open task can be snoozed."]
    if until <= account_today(region=locked.account.region):
        errors["until"] = ["Snooze until a day after today."]
    if not reason.strip():
        errors["reason"] = ["Say why the task is snoozed."]
    if errors:
        raise ValidationError(errors)
    locked.snoozed_until = until
    locked.snooze_reason = reason.strip()[:255]
    locked.save(update_fields=["snoozed_until", "snooze_reason"])
    return locked


def tasks_cancel_for_left_tier(*, account_id: int, tier_code: str) -> int:
    """Cancel the open tasks that ``tier_code``'s playbooks created on the account."""
    if not tier_code:
        return 0
    return Task.objects.filter(
        account_id=account_id, tier_code=tier_code, status=TaskStatus.OPEN, playbook_run__isnull=False
    ).update(status=TaskStatus.CANCELLED, cancelled_reason=f"The account left {tier_code}.")
