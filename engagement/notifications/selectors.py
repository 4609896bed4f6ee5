"""Reads for the bell and the notification list: only the person's own, without the kinds they
left out of the bell."""

from __future__ import annotations

from django.db.models import QuerySet

from csplatform.models import User

from ..models import Notification, NotificationPreference

LIST_LIMIT = 100


def _shown(user: User) -> QuerySet[Notification]:
    off = NotificationPreference.objects.filter(user=user).values_list("in_app_off", flat=True).first() or []
    return Notification.objects.filter(recipient=user).exclude(kind__in=off)


def unread_count(user: User) -> int:
    return _shown(user).filter(read_at__isnull=True).count()


def notifications_for(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    shown = _shown(user)
    if unread_only:
        shown = shown.filter(read_at__isnull=True)
    return shown.order_by("-created_at", "-id")[:LIST_LIMIT]
