"""Reads of account flags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from accounts.models import Account
from csplatform import authorization

from ..models import Flag, FlagStatus

if TYPE_CHECKING:
    from csplatform.models import AnyUser


def flags_visible_to(*, user: AnyUser) -> QuerySet[Flag]:
    """Flags on the accounts ``user`` may see."""
    return Flag.objects.filter(authorization.account_scope(user, via="account__"))


def open_flags_for_account(*, account: Account) -> QuerySet[Flag]:
    return Flag.objects.filter(account=account, status=FlagStatus.OPEN).order_by("-raised_at")
