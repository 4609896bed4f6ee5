"""Reads of survey answers: the API list, the account timeline, the health input and the
leadership panel (NPS and CSAT by tier and by CSM, month by month, with the comments).

NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100. CSAT = % of answers 4 or 5.
Both count each answer once (a replaced answer counts with its latest score and date).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from csplatform import authorization

from ..models import SurveyKind, SurveyResponse

if TYPE_CHECKING:
    from csplatform.models import AnyUser

# Answers older than this no longer speak for the account's health.
HEALTH_WINDOW = dt.timedelta(days=365)


def survey_responses_for(*, user: AnyUser, account_id: int | None = None) -> QuerySet[SurveyResponse]:
    """The answers on accounts ``user`` may see, newest first."""
    responses = SurveyResponse.objects.filter(authorization.account_scope(user, via="account__"))
    if account_id is not None:
        responses = responses.filter(account_id=account_id)
    return responses.order_by("-responded_at", "-id")


def normalised_score(kind: str, score: int) -> float:
    """An answer on 0–100: NPS 0–10 × 10, CSAT 1–5 → 0, 25, 50, 75, 100."""
    return score * 10.0 if kind == SurveyKind.NPS else (score - 1) * 25.0


def survey_score(account_ids: Sequence[int], today: dt.date) -> dict[int, Any]:
    """Health input: the mean of each contact's latest answer of the last year, on 0–100 (no value
    without answers)."""
    since = timezone.make_aware(dt.datetime.combine(today, dt.time.max)) - HEALTH_WINDOW
    rows = (
        SurveyResponse.objects.filter(account_id__in=account_ids, responded_at__gte=since)
        .order_by("account_id", "contact_id", "-responded_at")
        .distinct("account_id", "contact_id")
        .values_list("account_id", "kind", "score")
    )
    scores: dict[int, list[float]] = defaultdict(list)
    for account_id, kind, score in rows:
        scores[account_id].append(normalised_score(kind, score))
    return {account_id: round(sum(values) / len(values), 1) for account_id, values in scores.items()}


def survey_timeline_rows(account_id: int, *, limit: int) -> list[SurveyResponse]:
    return list(
        SurveyResponse.objects.filter(account_id=account_id)
        .select_related("contact", "survey", "survey__touchpoint", "journey")
        .order_by("-responded_at")[:limit]
    )


# --- Leadership panel -------------------------------------------------------------------------


@dataclass
class Score:
    answers: int = 0
    high: int = 0  # promoters (NPS) or satisfied (CSAT)
    low: int = 0  # detractors (NPS)

    def value(self, kind: str) -> int | None:
        if not self.answers:
            return None
        if kind == SurveyKind.NPS:
            return round((self.high - self.low) * 100 / self.answers)
        return round(self.high * 100 / self.answers)


@dataclass
class PanelRow:
    group: str
    by_month: dict[dt.date, Score] = field(default_factory=lambda: defaultdict(Score))
    total: Score = field(default_factory=Score)


@dataclass(frozen=True)
class Cell:
    value: int | None
    answers: int


@dataclass(frozen=True)
class ShownRow:
    group: str
    cells: list[Cell]
    total: Cell


@dataclass
class SatisfactionPanel:
    kind: str
    by: str
    months: list[dt.date]
    rows: list[ShownRow]
    total: ShownRow | None
    comments: list[SurveyResponse]


def _shown(row: PanelRow, *, kind: str, months: list[dt.date]) -> ShownRow:
    cells = [row.by_month.get(month) or Score() for month in months]
    return ShownRow(
        group=row.group,
        cells=[Cell(score.value(kind), score.answers) for score in cells],
        total=Cell(row.total.value(kind), row.total.answers),
    )


def _months(today: dt.date, count: int) -> list[dt.date]:
    first = today.replace(day=1)
    months = [first]
    for _ in range(count - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        months.append(first)
    return list(reversed(months))


def satisfaction_panel(*, kind: str, by: str, today: dt.date, months: int = 6) -> SatisfactionPanel:
    """NPS or CSAT by ``by`` (``tier`` or ``csm``) over the last ``months`` months: one grouped query
    and one for the comments."""
    month_list = _months(today, months)
    since = timezone.make_aware(dt.datetime.combine(month_list[0], dt.time.min))
    high = Q(score__gte=9) if kind == SurveyKind.NPS else Q(score__gte=4)
    low = Q(score__lte=6) if kind == SurveyKind.NPS else Q(pk__in=[])
    group_field = "tier_code" if by == "tier" else "csm__username"
    answers = SurveyResponse.objects.filter(kind=kind, responded_at__gte=since)
    grouped = (
        answers.annotate(month=TruncMonth("responded_at"))
        .values(group_field, "month")
        .annotate(n=Count("id"), high=Count("id", filter=high), low=Count("id", filter=low))
        .order_by()
    )
    rows: dict[str, PanelRow] = {}
    total = PanelRow(group="All")
    for row in grouped:
        group = row[group_field] or ("no tier" if by == "tier" else "unassigned")
        month = timezone.localtime(row["month"]).date().replace(day=1)
        target = rows.setdefault(group, PanelRow(group=group))
        for panel_row in (target, total):
            for score in (panel_row.by_month[month], panel_row.total):
                score.answers += row["n"]
                score.high += row["high"]
                score.low += row["low"]
    comments = list(
        answers.exclude(comment="").select_related("account", "contact", "csm").order_by("-responded_at")[:12]
    )
    return SatisfactionPanel(
        kind=kind,
        by=by,
        months=month_list,
        rows=[_shown(r, kind=kind, months=month_list) for r in sorted(rows.values(), key=lambda r: r.group)],
        total=_shown(total, kind=kind, months=month_list) if rows else None,
        comments=comments,
    )
