"""Email digests: what each person gets, when, and how it is built for many people at once.

A digest is due once per period (a local day, or a week from Monday) at the person's chosen hour
in their own time zone. It is written to the mail outbox keyed by person and period, so however
often the task runs (every 15 minutes, two beats), a person gets at most one per period. A digest
with nothing to tell is recorded as handled (``cancelled``) and not sent.

Contents are read set-based for every person due at once: a handful of grouped queries whatever
the number of people, then one rendering per person.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, F, Max, Window
from django.db.models.functions import RowNumber
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from csplatform import roles
from csplatform.models import AnyUser, User

from ..models import (
    CommitmentStatus,
    DigestFrequency,
    HandoffCommitment,
    MailKind,
    MailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutgoingMail,
    Task,
    TaskStatus,
)

# key: (title, role that gets it)
DIGEST_ITEMS: dict[str, tuple[str, str]] = {
    "new_flags": ("New flags on your accounts", roles.CSM),
    "tasks_due": ("Tasks due", roles.CSM),
    "tier_proposals": ("Tier proposals waiting for you", roles.CSM),
    "health_falls": ("Health falls on your accounts", roles.CSM),
    "approvals_waiting": ("Approvals waiting", roles.CS_LEADERSHIP),
    "overloaded_csms": ("Overloaded CSMs", roles.CS_LEADERSHIP),
    "commitments_exceeding": ("Commitments that exceed the tier", roles.CS_LEADERSHIP),
    "commitment_decisions": ("Decisions on your commitments", roles.ACCOUNT_EXECUTIVE),
}
DIGEST_ROLES = (roles.CSM, roles.CS_LEADERSHIP, roles.ACCOUNT_EXECUTIVE)
# Lines listed per section; the count says how many there are in all.
LINES_PER_SECTION = 5
PERIOD_LENGTH: dict[str, dt.timedelta] = {
    DigestFrequency.DAILY: dt.timedelta(days=1),
    DigestFrequency.WEEKLY: dt.timedelta(days=7),
}


def digest_items_for(user: AnyUser) -> list[str]:
    """The digest items a person's roles get, in digest order."""
    return [key for key, (_, role) in DIGEST_ITEMS.items() if roles.has_role(user, role)]


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --- Who is due -------------------------------------------------------------------------------


@dataclass
class DuePerson:
    user_id: int
    email: str
    name: str
    frequency: str
    period: str
    since: dt.datetime
    local_today: dt.date
    items: list[str]

    @property
    def key(self) -> str:
        return f"digest:{self.user_id}:{self.frequency}:{self.period}"


def digest_period(*, frequency: str, local: dt.datetime, hour: int) -> str | None:
    """The period a digest due at ``local`` (the person's local time) covers, or None when none
    is due yet: a daily one from ``hour`` each day, a weekly one from ``hour`` on Monday."""
    if frequency == DigestFrequency.DAILY:
        return local.date().isoformat() if local.hour >= hour else None
    if frequency == DigestFrequency.WEEKLY:
        if local.weekday() == 0 and local.hour < hour:
            return None
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return None


def digests_due(*, now: dt.datetime) -> list[DuePerson]:
    """Everyone whose digest for the current period is due and not yet written (3 queries)."""
    people = (
        User.objects.filter(is_active=True, groups__name__in=DIGEST_ROLES)
        .exclude(email="")
        .values_list("pk", "email", "first_name", "last_name", "username", "time_zone", "groups__name")
    )
    found: dict[int, tuple[str, str, str]] = {}
    user_roles: dict[int, set[str]] = defaultdict(set)
    for pk, email, first, last, username, zone, role in people:
        found[pk] = (email, f"{first} {last}".strip() or username, zone)
        user_roles[pk].add(role)
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=list(found))}
    candidates: list[DuePerson] = []
    for pk, (email, name, zone) in found.items():
        preference = preferences.get(pk) or NotificationPreference(user_id=pk)
        local = now.astimezone(_zone(zone))
        period = digest_period(
            frequency=preference.digest_frequency, local=local, hour=preference.digest_hour
        )
        if period is None:
            continue
        offered = [key for key, (_, role) in DIGEST_ITEMS.items() if role in user_roles[pk]]
        items = [key for key in offered if key not in (preference.digest_items_off or [])]
        if not items:
            continue
        candidates.append(
            DuePerson(
                user_id=pk,
                email=email,
                name=name,
                frequency=preference.digest_frequency,
                period=period,
                since=now - PERIOD_LENGTH[preference.digest_frequency],
                local_today=local.date(),
                items=items,
            )
        )
    written = set(
        OutgoingMail.objects.filter(key__in=[c.key for c in candidates]).values_list("key", flat=True)
    )
    due = [c for c in candidates if c.key not in written]
    last_sent: dict[int, dt.datetime] = dict(
        OutgoingMail.objects.filter(kind=MailKind.DIGEST, user_id__in=[c.user_id for c in due])
        .values("user_id")
        .annotate(at=Max("created_at"))
        .values_list("user_id", "at")
    )
    for person in due:
        # What happened since the last digest (a missed period is not lost), at most a period.
        if person.user_id in last_sent:
            person.since = max(person.since, last_sent[person.user_id])
    return due


# --- What it says -----------------------------------------------------------------------------


@dataclass
class Section:
    key: str
    title: str
    count: int = 0
    lines: list[str] = field(default_factory=list)
    url: str = ""


@dataclass
class Digest:
    person: DuePerson
    sections: list[Section]

    @property
    def empty(self) -> bool:
        return not any(section.count for section in self.sections)

    @property
    def subject(self) -> str:
        parts = [f"{s.count} {s.title.lower()}" for s in self.sections if s.count][:3]
        label = "daily" if self.person.frequency == DigestFrequency.DAILY else "weekly"
        return f"Your {label} csplatform digest: " + (", ".join(parts) if parts else "nothing new")


def _site(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _events(kind: str, people: list[DuePerson]) -> dict[int, tuple[int, list[str]]]:
    """Notifications of ``kind`` per person since their own ``since``: (count, first lines)."""
    if not people:
        return {}
    since = {p.user_id: p.since for p in people}
    rows = (
        Notification.objects.filter(
            recipient_id__in=list(since), kind=kind, created_at__gte=min(since.values())
        )
        .order_by("recipient_id", "-created_at")
        .values_list("recipient_id", "title", "created_at")
    )
    found: dict[int, tuple[int, list[str]]] = {}
    for user_id, title, created_at in rows.iterator(chunk_size=5000):
        if created_at < since[user_id]:
            continue
        count, lines = found.get(user_id, (0, []))
        if len(lines) < LINES_PER_SECTION:
            lines.append(title)
        found[user_id] = (count + 1, lines)
    return found


def _tasks_due(people: list[DuePerson]) -> dict[int, tuple[int, list[str]]]:
    if not people:
        return {}
    today = {p.user_id: p.local_today for p in people}
    open_due = Task.objects.filter(
        assignee_id__in=list(today), status=TaskStatus.OPEN, due_on__lte=max(today.values())
    )
    counts: Counter = Counter()
    for user_id, due_on, n in (
        open_due.values("assignee_id", "due_on")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "due_on", "n")
    ):
        if due_on <= today[user_id]:
            counts[user_id] += n
    first = (
        open_due.annotate(
            rank=Window(
                RowNumber(), partition_by=[F("assignee_id")], order_by=[F("due_on").asc(), F("id").asc()]
            )
        )
        .filter(rank__lte=LINES_PER_SECTION)
        .values_list("assignee_id", "title", "account__name", "due_on")
    )
    lines: dict[int, list[str]] = defaultdict(list)
    for user_id, title, account, due_on in first:
        if due_on <= today[user_id]:
            overdue = " (overdue)" if due_on < today[user_id] else ""
            lines[user_id].append(f"{title} — {account}, due {due_on:%d %b}{overdue}")
    return {user_id: (n, lines[user_id]) for user_id, n in counts.items()}


def _tier_proposals(people: list[DuePerson]) -> dict[int, tuple[int, list[str]]]:
    from segmentation.models import ChangeStatus, TierChange

    if not people:
        return {}
    ids = [p.user_id for p in people]
    waiting = TierChange.objects.filter(status=ChangeStatus.PROPOSED, account__csm_id__in=ids)
    counts = dict(
        waiting.values("account__csm_id").annotate(n=Count("id")).values_list("account__csm_id", "n")
    )
    first = (
        waiting.annotate(
            rank=Window(RowNumber(), partition_by=[F("account__csm_id")], order_by=[F("id").asc()])
        )
        .filter(rank__lte=LINES_PER_SECTION)
        .values_list("account__csm_id", "account__name", "from_code", "to_code")
    )
    lines: dict[int, list[str]] = defaultdict(list)
    for user_id, account, from_code, to_code in first:
        lines[user_id].append(f"{account}: {from_code or '—'} → {to_code}")
    return {user_id: (n, lines[user_id]) for user_id, n in counts.items()}


def _leadership_sections(today: dt.date) -> dict[str, tuple[int, list[str]]]:
    """The same for every leader: read once."""
    from segmentation.models import OverrideStatus, TierOverride

    from ..capacity.selectors import csm_capacity

    overrides = TierOverride.objects.filter(status=OverrideStatus.PENDING, needs_approval=True)
    exceeding = HandoffCommitment.objects.filter(status=CommitmentStatus.EXCEEDS_TIER)
    approvals = [
        f"Override of {o.account.name} to {o.tier_code} ({o.get_reason_display()})"
        for o in overrides.select_related("account").order_by("created_at")[:LINES_PER_SECTION]
    ]
    commitments = [
        f"{c.account.name}: {c.module.name if c.module else c.description[:60]}"
        for c in exceeding.select_related("account", "module").order_by("created_at")[:LINES_PER_SECTION]
    ]
    n_overrides, n_exceeding = overrides.count(), exceeding.count()
    overloaded = sorted(
        (c for c in csm_capacity(today=today, from_summary=True) if c.overloaded),
        key=lambda c: c.spare_hours,
    )
    return {
        "approvals_waiting": (
            n_overrides + n_exceeding,
            (approvals + [f"Commitment beyond the tier — {line}" for line in commitments])[
                :LINES_PER_SECTION
            ],
        ),
        "overloaded_csms": (
            len(overloaded),
            [
                f"{c.csm.display_name}: {c.required_hours} h needed of {c.capacity_hours} h a week"
                for c in overloaded[:LINES_PER_SECTION]
            ],
        ),
        "commitments_exceeding": (n_exceeding, commitments),
    }


SECTION_URLS = {
    "new_flags": "home",
    "tasks_due": "home",
    "tier_proposals": "home",
    "health_falls": "home",
    "approvals_waiting": "engagement:approvals",
    "overloaded_csms": "leadership-overview",
    "commitments_exceeding": "engagement:approvals",
    "commitment_decisions": "home",
}


LEADER_ITEMS = ("approvals_waiting", "overloaded_csms", "commitments_exceeding")


def digests_build(
    *, people: list[DuePerson], now: dt.datetime, leaders: dict[str, tuple[int, list[str]]] | None = None
) -> list[Digest]:
    """The digest of each person: a few grouped queries for everyone, nothing per person.
    ``leaders`` (the sections every leader shares) is read here unless given."""

    def wanting(item: str) -> list[DuePerson]:
        return [p for p in people if item in p.items]

    per_person = {
        "new_flags": _events(NotificationKind.FLAG_RAISED, wanting("new_flags")),
        "health_falls": _events(NotificationKind.HEALTH_FELL, wanting("health_falls")),
        "commitment_decisions": _events(NotificationKind.COMMITMENT_DECIDED, wanting("commitment_decisions")),
        "tasks_due": _tasks_due(wanting("tasks_due")),
        "tier_proposals": _tier_proposals(wanting("tier_proposals")),
    }
    if leaders is None:
        leaders = _leadership_sections(now.date()) if _any_leader(people) else {}
    urls = {key: _site(reverse(name)) for key, name in SECTION_URLS.items()}
    digests = []
    for person in people:
        sections = []
        for item in person.items:
            count, lines = leaders.get(item) or per_person.get(item, {}).get(person.user_id) or (0, [])
            sections.append(Section(item, DIGEST_ITEMS[item][0], count, lines, urls[item]))
        digests.append(Digest(person=person, sections=sections))
    return digests


def _any_leader(people: list[DuePerson]) -> bool:
    return any(item in LEADER_ITEMS for person in people for item in person.items)


# --- Writing them to the outbox ---------------------------------------------------------------

# Rows written per INSERT.
WRITE_BATCH = 2000


def _mail(digest: Digest, *, now: dt.datetime, text: object, html: object) -> OutgoingMail:
    context = {
        "digest": digest,
        "person": digest.person,
        "preferences_url": _site(reverse("notifications:preferences")),
        "notifications_url": _site(reverse("notifications:list")),
    }
    return OutgoingMail(
        key=digest.person.key,
        kind=MailKind.DIGEST,
        user_id=digest.person.user_id,
        to_email=digest.person.email,
        to_name=digest.person.name[:200],
        subject=digest.subject[:255],
        body_text=text.render(context),  # type: ignore[attr-defined]
        body_html=html.render(context),  # type: ignore[attr-defined]
        status=MailStatus.CANCELLED if digest.empty else MailStatus.PENDING,
        detail="Nothing to tell this period." if digest.empty else "",
        created_at=now,
        not_before=now,
    )


def digests_send(*, now: dt.datetime | None = None, user_ids: Iterable[int] | None = None) -> Counter:
    """Write the digests that are due to the mail outbox (sent by ``mail_dispatch``). Safe to run
    twice: a period's digest is keyed by person and period."""
    now = now or timezone.now()
    people = digests_due(now=now)
    if user_ids is not None:
        wanted = set(user_ids)
        people = [p for p in people if p.user_id in wanted]
    counts: Counter = Counter()
    text, html = get_template("notifications/digest.txt"), get_template("notifications/digest.html")
    leaders = _leadership_sections(now.date()) if _any_leader(people) else {}
    for start in range(0, len(people), WRITE_BATCH):
        batch = digests_build(people=people[start : start + WRITE_BATCH], now=now, leaders=leaders)
        rows = [_mail(digest, now=now, text=text, html=html) for digest in batch]
        OutgoingMail.objects.bulk_create(rows, ignore_conflicts=True)
        counts["written"] += sum(1 for d in batch if not d.empty)
        counts["nothing_to_tell"] += sum(1 for d in batch if d.empty)
    return counts


__all__ = ["DIGEST_ITEMS", "digest_items_for", "digests_build", "digests_due", "digests_send"]
