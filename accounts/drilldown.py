"""Drill-down pages: the accounts behind a number on a leadership panel.

Each panel's app computes which accounts its number counts (the same rule as the number); this
renders one page of them with the total, so the number that opened the page and the page's total
(``data-total``) are the same.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from csplatform.htmx import HtmxHttpRequest, querystring

from .models import Account

DRILLDOWN_PAGE_SIZE = 50


def drilldown_page_number(request: HtmxHttpRequest) -> int:
    """The ``page`` parameter, 1 when missing or not a number (a bad page is the first one)."""
    try:
        return max(1, min(int(request.GET.get("page", "1")), 100_000))
    except ValueError:
        return 1


def drilldown_offset(page: int) -> int:
    return (page - 1) * DRILLDOWN_PAGE_SIZE


def page_of(ids: list[int], page: int) -> list[int]:
    return ids[drilldown_offset(page) : drilldown_offset(page) + DRILLDOWN_PAGE_SIZE]


def render_drilldown(
    request: HtmxHttpRequest, title: str, *, ids: list[int], total: int, page: int, note: str = ""
) -> HttpResponse:
    """One page of a drill-down: ``ids`` are that page's accounts in their order."""
    by_id = {a.pk: a for a in Account.objects.filter(pk__in=ids).select_related("csm", "ae")}
    pages = max(1, -(-total // DRILLDOWN_PAGE_SIZE))
    base = {k: v for k, v in request.GET.items() if k != "page"}
    return render(
        request,
        "accounts/drilldown.html",
        {
            "title": title,
            "rows": [by_id[i] for i in ids if i in by_id],
            "note": note,
            "total": total,
            "page": page,
            "pages": pages,
            "previous_query": querystring(base, page=page - 1) if page > 1 else None,
            "next_query": querystring(base, page=page + 1) if page < pages else None,
        },
    )
