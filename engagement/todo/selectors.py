"""Reads of CSM tasks (the to-dos playbooks create or a person adds) for pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from csplatform import authorization
from csplatform.models import User

from ..models import Task, TaskStatus

if TYPE_CHECKING:
    from csplatform.models import AnyUser


def tasks_for_csm(
    *, csm: User, include_snoozed: bool = False, today: dt.date | None = None
) -> QuerySet[Task]:
    today = today or timezone.localdate()
    tasks = Task.objects.filter(assignee=csm, status=TaskStatus.OPEN)
    if not include_snoozed:
        tasks = tasks.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
    return tasks.select_related("account", "module").order_by("due_on", "pk")


def tasks_for_account(*, account: Account) -> QuerySet[Task]:
    return (
        Task.objects.filter(account=account)
        .select_related("module", "assignee")
        .order_by("status", "due_on", "pk")
    )


def tasks_visible_to(*, user: AnyUser) -> QuerySet[Task]:
    """Tasks on the accounts ``user`` may see (to act on one: a 404 for the rest)."""
    return Task.objects.filter(authorization.account_scope(user, via="account__")).select_related("account")


def tasks_visible_for_account(*, account_id: int, user: AnyUser) -> QuerySet[Task]:
    """The account's tasks if ``user`` may see the account, otherwise none (for the API filter)."""
    return (
        Task.objects.filter(authorization.account_scope(user, via="account__"), account_id=account_id)
        .select_related("module", "assignee")
        .order_by("status", "due_on", "pk")
    )
