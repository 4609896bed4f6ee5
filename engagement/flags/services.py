"""Flags from usage signals: detected after each metrics or contacts sync and nightly.

Thresholds are settings (``FLAG_*`` in ``csplatform/settings.py``, overridable by environment).
Usage compares the latest period with the mean of the ``FLAG_BASELINE_PERIODS`` periods before it;
a threshold is inclusive (a drop of exactly 30% with a 30% threshold raises the flag). One open
flag per account and kind; a flag closes when it expires or is resolved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import Account, Contact, UsageSnapshot
from accounts.selectors import active_book
from csplatform import authorization
from csplatform.bulk import rows_insert_new
from playbooks.models import Trigger

from ..models import ChampionWatch, Flag, FlagKind, FlagStatus
from ..signals import flags_raised

if TYPE_CHECKING:
    from csplatform.models import User

# Accounts per detection pass of the nightly run (window query + flag writes per pass).
DETECT_CHUNK = 5000


@dataclass(frozen=True)
class Signal:
    account_id: int
    kind: str
    explanation: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Period:
    active_users: int
    support_tickets: int


def usage_signals(*, account_id: int, latest: Period, previous: Sequence[Period]) -> list[Signal]:
    """Usage drop / spike and ticket surge of the latest period against the ones before it."""
    if not previous:
        return []
    signals = []
    baseline_users = Fraction(sum(p.active_users for p in previous), len(previous))
    if baseline_users > 0:
        change = (latest.active_users - baseline_users) * 100 / baseline_users
        detail = {
            "active_users": latest.active_users,
            "baseline": float(round(baseline_users, 2)),
            "change_percent": float(round(change, 1)),
        }
        if change <= -settings.FLAG_USAGE_DROP_PERCENT:
            signals.append(
                Signal(
                    account_id,
                    FlagKind.USAGE_DROP,
                    f"Active users fell {-float(change):.0f}% below the recent average.",
                    detail,
                )
            )
        elif change >= settings.FLAG_USAGE_SPIKE_PERCENT:
            signals.append(
                Signal(
                    account_id,
                    FlagKind.USAGE_SPIKE,
                    f"Active users rose {float(change):.0f}% above the recent average.",
                    detail,
                )
            )
    baseline_tickets = Fraction(sum(p.support_tickets for p in previous), len(previous))
    if (
        latest.support_tickets >= settings.FLAG_TICKET_SURGE_MIN
        and latest.support_tickets >= baseline_tickets * Fraction(str(settings.FLAG_TICKET_SURGE_FACTOR))
    ):
        signals.append(
            Signal(
                account_id,
                FlagKind.TICKET_SURGE,
                f"{latest.support_tickets} support tickets in the latest period "
                f"(recent average {float(baseline_tickets):.1f}).",
                {"support_tickets": latest.support_tickets, "baseline": float(round(baseline_tickets, 2))},
            )
        )
    return signals


def _usage_signals_for(account_ids: Sequence[int] | None, id_range: tuple[int, int] | None) -> list[Signal]:
    depth = int(settings.FLAG_BASELINE_PERIODS) + 1
    snapshots = UsageSnapshot.objects.annotate(
        row=Window(RowNumber(), partition_by=[F("account_id")], order_by=F("period_start").desc())
    )
    if account_ids is not None:
        snapshots = snapshots.filter(account_id__in=account_ids)
    if id_range is not None:
        snapshots = snapshots.filter(account_id__gte=id_range[0], account_id__lte=id_range[1])
    periods: dict[int, list[Period]] = defaultdict(list)
    for account_id, users, tickets in (
        snapshots.filter(row__lte=depth)
        .order_by("account_id", "-period_start")
        .values_list("account_id", "active_users", "support_tickets")
    ):
        periods[account_id].append(Period(users, tickets))
    signals = []
    for account_id, rows in periods.items():
        signals.extend(usage_signals(account_id=account_id, latest=rows[0], previous=rows[1:]))
    return signals


def _renewal_signals(
    account_ids: Sequence[int] | None, id_range: tuple[int, int] | None, today: dt.date
) -> list[Signal]:
    horizon = today + dt.timedelta(days=int(settings.FLAG_RENEWAL_NEAR_DAYS))
    accounts = active_book().filter(renewal_date__gte=today, renewal_date__lte=horizon)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    if id_range is not None:
        accounts = accounts.filter(pk__range=id_range)
    return [
        Signal(
            pk,
            FlagKind.RENEWAL_NEAR,
            f"Renews on {renewal:%Y-%m-%d}, in {(renewal - today).days} days.",
            {"renewal_date": renewal.isoformat()},
        )
        for pk, renewal in accounts.values_list("pk", "renewal_date")
        if renewal is not None
    ]


def flags_raise(*, signals: Iterable[Signal], now: dt.datetime | None = None) -> list[Flag]:
    """Open a flag per signal unless one of that kind is open already; start flag playbooks.

    Set-based: one query for the open flags, one INSERT per batch, playbooks started per kind.
    """
    from playbooks.selectors import playbooks_for

    from ..playbook_runs.services import playbook_runs_start_many

    now = now or timezone.now()
    signals = list(signals)
    if not signals:
        return []
    open_pairs = set(
        Flag.objects.filter(
            account_id__in={s.account_id for s in signals}, status=FlagStatus.OPEN
        ).values_list("account_id", "kind")
    )
    expires = now + dt.timedelta(days=int(settings.FLAG_EXPIRY_DAYS))
    rows = []
    for signal in signals:
        if (signal.account_id, signal.kind) in open_pairs:
            continue
        open_pairs.add((signal.account_id, signal.kind))
        rows.append(
            Flag(
                account_id=signal.account_id,
                kind=signal.kind,
                explanation=signal.explanation[:300],
                detail=signal.detail,
                raised_at=now,
                expires_at=expires,
            )
        )
    # Raised concurrently by another detection run: the ones still missing are kept.
    created = rows_insert_new(rows)
    if not created:
        return created
    # Open flags count in account health (bulk_create sends no post_save).
    from segmentation.services.health import enqueue_health_recompute

    enqueue_health_recompute(account_ids={flag.account_id for flag in created})
    # Webhooks and the CSM's notifications (the bell, the next digest) follow this signal.
    flags_raised.send(sender=Flag, flag_ids=[flag.pk for flag in created])
    accounts = Account.objects.only("pk", "region", "csm_id", "tier_code").in_bulk(
        {flag.account_id for flag in created}
    )
    by_kind: dict[str, list[Flag]] = defaultdict(list)
    for flag in created:
        by_kind[flag.kind].append(flag)
    for kind, flags in by_kind.items():
        for playbook in playbooks_for(
            trigger=Trigger.FLAG_RAISED, tier_code="", flag_kind=kind, any_tier=True
        ):
            targets = [
                (accounts[flag.account_id], f"flag:{flag.pk}")
                for flag in flags
                if not playbook.tier_code or accounts[flag.account_id].tier_code == playbook.tier_code
            ]
            playbook_runs_start_many(playbook=playbook, targets=targets)
    return created


def flags_detect(*, account_ids: Iterable[int] | None = None, today: dt.date | None = None) -> int:
    """Detect usage, ticket and renewal flags for ``account_ids`` (all accounts when None).

    Returns how many flags were raised. Safe to run twice: open flags are not raised again.
    """
    today = today or timezone.localdate()
    raised = 0
    if account_ids is not None:
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), DETECT_CHUNK):
            chunk = ids[start : start + DETECT_CHUNK]
            signals = _usage_signals_for(chunk, None) + _renewal_signals(chunk, None, today)
            raised += len(flags_raise(signals=signals))
        return raised
    bounds = Account.objects.order_by("pk").values_list("pk", flat=True)
    low, high = bounds.first(), bounds.last()
    if low is None or high is None:
        return 0
    for start in range(low, high + 1, DETECT_CHUNK):
        id_range = (start, start + DETECT_CHUNK - 1)
        signals = _usage_signals_for(None, id_range) + _renewal_signals(None, id_range, today)
        raised += len(flags_raise(signals=signals))
    return raised


def champions_check(*, account_ids: Iterable[int]) -> int:
    """Flag accounts where a contact seen as champion last time is no longer one (or is gone)."""
    ids = sorted(set(account_ids))
    current: dict[int, set[int]] = {pk: set() for pk in ids}
    for account_id, contact_id in Contact.objects.filter(account_id__in=ids, is_champion=True).values_list(
        "account_id", "pk"
    ):
        current[account_id].add(contact_id)
    watches = {w.account_id: w for w in ChampionWatch.objects.filter(account_id__in=ids)}
    signals = []
    for account_id, champions in current.items():
        watch = watches.get(account_id)
        if watch is None:
            ChampionWatch.objects.create(account_id=account_id, champion_contact_ids=sorted(champions))
            continue
        gone = set(watch.champion_contact_ids) - champions
        if gone:
            signals.append(
                Signal(
                    account_id,
                    FlagKind.CHAMPION_LEFT,
                    "A champion is no longer listed as champion on this account.",
                    {"contact_ids": sorted(gone)},
                )
            )
        if set(watch.champion_contact_ids) != champions:
            watch.champion_contact_ids = sorted(champions)
            watch.save(update_fields=["champion_contact_ids", "checked_at"])
    return len(flags_raise(signals=signals))


def flags_expire(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return Flag.objects.filter(status=FlagStatus.OPEN, expires_at__lte=now).update(
        status=FlagStatus.EXPIRED, closed_at=now
    )


@transaction.atomic
def flag_resolve(*, by: User, flag: Flag, note: str = "") -> Flag:
    locked = Flag.objects.select_for_update(no_key=True).select_related("account").get(pk=flag.pk)
    if not authorization.may_do_cs_work(by, locked.account):
        raise PermissionDenied("Only the account's CSM or CS Leadership may resolve flags.")
    if locked.status != FlagStatus.OPEN:
        raise ValidationError({"status": [f"This flag is already {locked.status}."]})
    locked.status = FlagStatus.RESOLVED
    locked.closed_at = timezone.now()
    locked.resolved_by = by
    locked.resolution_note = note.strip()[:300]
    locked.save(update_fields=["status", "closed_at", "resolved_by", "resolution_note"])
    return locked
