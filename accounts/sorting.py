"""How lists of accounts sort: one vocabulary of sort keys (``?order=``), each naming the account
columns it orders by, read by every list of accounts.

The accounts list applies a key through the ORM (``orm_ordering``); the worklist, which pages its
rows in SQL, composes the same columns into its ORDER BY (``engagement.worklist.queries``). A key
is defined here once, so the two lists cannot disagree on what "ACV, highest first" means.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, OrderBy


@dataclass(frozen=True)
class SortColumn:
    """One column of a sort: an ``Account`` field that is also its database column."""

    field: str
    descending: bool = False
    nulls_last: bool = False


def _asc(field: str, *, nulls_last: bool = False) -> SortColumn:
    return SortColumn(field, descending=False, nulls_last=nulls_last)


def _desc(field: str, *, nulls_last: bool = False) -> SortColumn:
    return SortColumn(field, descending=True, nulls_last=nulls_last)


# Each key ends in the id, so a sort is a total order and pages never repeat or skip a row.
ACCOUNT_SORTS: dict[str, tuple[SortColumn, ...]] = {
    "name": (_asc("name"), _asc("id")),
    "-name": (_desc("name"), _desc("id")),
    "-acv": (_desc("acv"), _asc("id")),
    "acv": (_asc("acv"), _asc("id")),
    "renewal": (_asc("renewal_date", nulls_last=True), _asc("id")),
    "-renewal": (_desc("renewal_date", nulls_last=True), _asc("id")),
    "tier": (_asc("tier_rank", nulls_last=True), _asc("name"), _asc("id")),
    "-tier": (_desc("tier_rank", nulls_last=True), _asc("name"), _asc("id")),
}
ACCOUNT_SORT_LABELS: dict[str, str] = {
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
    "-acv": "ACV, highest first",
    "acv": "ACV, lowest first",
    "renewal": "Renewal, soonest first",
    "-renewal": "Renewal, latest first",
    "tier": "Tier, highest touch first",
    "-tier": "Tier, lowest touch first",
}
# The columns whose header sorts the list, by key (ascending first; a second click descends).
SORTABLE_COLUMNS = ("name", "acv", "renewal", "tier")


def orm_ordering(key: str) -> list[OrderBy]:
    """``ACCOUNT_SORTS[key]`` as ``order_by`` arguments."""
    return [
        F(c.field).desc(nulls_last=c.nulls_last or None)
        if c.descending
        else F(c.field).asc(nulls_last=c.nulls_last or None)
        for c in ACCOUNT_SORTS[key]
    ]
