"""Writing notifications, reading them as read, and each person's preferences.

Notifications are written by a task from ids (``notifications_write``): the recipient is decided
when the task runs (the account's CSM, the commitment's AE, every leader), and the (recipient,
key) constraint makes a second run write nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from csplatform import roles
from csplatform.bulk import rows_insert_new
from csplatform.models import User

from ..models import (
    DigestFrequency,
    Flag,
    HandoffCommitment,
    Notification,
    NotificationKind,
    NotificationPreference,
    SurveyResponse,
)

HEALTH_BAND_LABELS = {"healthy": "healthy", "watch": "watch", "at_risk": "at risk"}
_BAND_ORDER = {"healthy": 2, "watch": 1, "at_risk": 0}


def _id(value: int | None) -> int:
    """An owner id the query already required (``csm__isnull=False``)."""
    assert value is not None
    return value


def _account_url(account_id: int) -> str:
    return reverse("accounts:detail", args=[account_id])


def leaders() -> list[int]:
    return list(
        User.objects.filter(is_active=True, groups__name=roles.CS_LEADERSHIP)
        .values_list("pk", flat=True)
        .distinct()
    )


def _rows_for_flags(ids: list[int], now: dt.datetime) -> list[Notification]:
    flags = Flag.objects.filter(pk__in=ids, account__csm__isnull=False).select_related("account")
    return [
        Notification(
            recipient_id=_id(f.account.csm_id),
            kind=NotificationKind.FLAG_RAISED,
            key=f"flag:{f.pk}",
            title=f"{f.get_kind_display()} on {f.account.name}"[:200],
            body=f.explanation[:300],
            url=_account_url(f.account_id),
            account_id=f.account_id,
            created_at=f.raised_at,
        )
        for f in flags
    ]


def _rows_for_health(
    account_ids: list[int], bands: Mapping[str, Any], now: dt.datetime
) -> list[Notification]:
    froms, tos = bands.get("from_bands") or [], bands.get("to_bands") or []
    fell = {
        account_id: (was, band)
        for account_id, was, band in zip(account_ids, froms, tos, strict=False)
        if was and _BAND_ORDER.get(band, 2) < _BAND_ORDER.get(was, 2)
    }
    accounts = Account.objects.filter(pk__in=list(fell), csm__isnull=False).only("pk", "name", "csm_id")
    return [
        Notification(
            recipient_id=_id(a.csm_id),
            kind=NotificationKind.HEALTH_FELL,
            key=f"health:{a.pk}:{now:%Y-%m-%d}:{fell[a.pk][1]}",
            title=f"Health of {a.name} fell to {HEALTH_BAND_LABELS.get(fell[a.pk][1], fell[a.pk][1])}"[:200],
            body=f"It was {HEALTH_BAND_LABELS.get(fell[a.pk][0], fell[a.pk][0])}.",
            url=_account_url(a.pk),
            account_id=a.pk,
            created_at=now,
        )
        for a in accounts
    ]


def _rows_for_surveys(ids: list[int], now: dt.datetime) -> list[Notification]:
    responses = SurveyResponse.objects.filter(pk__in=ids, account__csm__isnull=False).select_related(
        "account", "contact"
    )
    return [
        Notification(
            recipient_id=_id(r.account.csm_id),
            kind=NotificationKind.SURVEY_RESPONDED,
            key=f"survey:{r.pk}:{r.answers}",
            title=f"{r.kind.upper()} {r.score} from {r.contact.name or r.contact.email} ({r.account.name})"[
                :200
            ],
            body=r.comment[:300],
            url=_account_url(r.account_id),
            account_id=r.account_id,
            created_at=r.responded_at,
        )
        for r in responses
    ]


def _rows_for_commitments(ids: list[int], now: dt.datetime, *, decided: bool) -> list[Notification]:
    commitments = HandoffCommitment.objects.filter(pk__in=ids).select_related("account", "module")
    rows = []
    for c in commitments:
        what = c.module.name if c.module else c.description[:60]
        if decided:
            if c.logged_by_id is None or c.decided_at is None:
                continue
            rows.append(
                Notification(
                    recipient_id=c.logged_by_id,
                    kind=NotificationKind.COMMITMENT_DECIDED,
                    key=f"commitment:{c.pk}:{c.status}",
                    title=f"Your commitment on {c.account.name} was {c.get_status_display().lower()}"[:200],
                    body=f"{what}: {c.decision_reason}"[:300],
                    url=_account_url(c.account_id),
                    account_id=c.account_id,
                    created_at=c.decided_at,
                )
            )
        else:
            rows.extend(
                Notification(
                    recipient_id=leader,
                    kind=NotificationKind.APPROVAL_WAITING,
                    key=f"commitment:{c.pk}:waiting",
                    title=f"Commitment beyond the tier on {c.account.name}"[:200],
                    body=f"{what} — {c.check_explanation}"[:300],
                    url=reverse("engagement:approvals"),
                    account_id=c.account_id,
                    created_at=c.created_at,
                )
                for leader in leaders()
            )
    return rows


def _rows_for_overrides(ids: list[int], now: dt.datetime) -> list[Notification]:
    from segmentation.models import OverrideStatus, TierOverride

    overrides = TierOverride.objects.filter(pk__in=ids, status=OverrideStatus.PENDING).select_related(
        "account", "requested_by"
    )
    return [
        Notification(
            recipient_id=leader,
            kind=NotificationKind.APPROVAL_WAITING,
            key=f"override:{o.pk}:waiting",
            title=f"Override of {o.account.name} to {o.tier_code} waits for approval"[:200],
            body=f"{o.get_reason_display()} — asked by {o.requested_by.display_name}"[:300],
            url=reverse("engagement:approvals"),
            account_id=o.account_id,
            created_at=o.created_at,
        )
        for o in overrides
        for leader in leaders()
    ]


# What ``notifications_write`` accepts as ``about``.
SOURCES = ("flag", "health", "survey", "commitment_waiting", "commitment_decided", "override")


@transaction.atomic
def notifications_write(*, about: str, ids: Iterable[int], detail: Mapping[str, Any] | None = None) -> int:
    """Write the notifications about ``ids`` (flags, accounts whose health changed, survey answers,
    commitments, overrides); returns how many were new (a second run writes none)."""
    now = timezone.now()
    ids = list(ids)
    rows: list[Notification]
    if about == "flag":
        rows = _rows_for_flags(ids, now)
    elif about == "health":
        rows = _rows_for_health(ids, detail or {}, now)
    elif about == "survey":
        rows = _rows_for_surveys(ids, now)
    elif about == "commitment_waiting":
        rows = _rows_for_commitments(ids, now, decided=False)
    elif about == "commitment_decided":
        rows = _rows_for_commitments(ids, now, decided=True)
    elif about == "override":
        rows = _rows_for_overrides(ids, now)
    else:
        raise ValidationError({"about": [f"Choose one of: {', '.join(SOURCES)}."]})
    return len(rows_insert_new(rows))


# --- Reading --------------------------------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of the person's own notifications read; False when it is not theirs or was read."""
    return bool(
        Notification.objects.filter(pk=notification_id, recipient=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    )


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- Preferences ----------------------------------------------------------------------------


def preference_for(user: User) -> NotificationPreference:
    """The person's stored choices, or the defaults (unsaved) when they never chose."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user)


def _unknown(values: Iterable[str], valid: Iterable[str], field: str) -> None:
    valid = list(valid)
    unknown = [value for value in values if value not in valid]
    if unknown:
        raise ValidationError(
            {field: [f"Unknown: {', '.join(map(str, unknown))}. Choose among: {', '.join(valid)}."]}
        )


@transaction.atomic
def notification_preferences_update(
    *,
    user: User,
    digest_frequency: str,
    digest_hour: int,
    digest_items: Iterable[str],
    in_app: Iterable[str],
) -> NotificationPreference:
    """Save what the person wants: how often a digest comes, at what local hour, which items it
    holds (among those their role gets), and which kinds the bell shows. Unknown values are
    refused with the valid ones listed."""
    from .digests import digest_items_for

    if digest_frequency not in DigestFrequency.values:
        raise ValidationError({"digest_frequency": [f"Choose one of: {', '.join(DigestFrequency.values)}."]})
    if not isinstance(digest_hour, int) or not 0 <= digest_hour <= 23:
        raise ValidationError({"digest_hour": ["Choose an hour from 0 to 23."]})
    wanted_items, wanted_kinds = list(digest_items), list(in_app)
    offered = digest_items_for(user)
    _unknown(wanted_items, offered, "digest_items")
    _unknown(wanted_kinds, NotificationKind.values, "in_app")
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.digest_frequency = digest_frequency
    preference.digest_hour = digest_hour
    preference.digest_items_off = [item for item in offered if item not in wanted_items]
    preference.in_app_off = [kind for kind in NotificationKind.values if kind not in wanted_kinds]
    preference.save()
    return preference
