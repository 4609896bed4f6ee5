"""Small helpers shared by the capabilities' ``queries`` modules: composing identifiers, naming ORM
parameters. This module holds no SQL statement.

The engagement app's hand-written SQL lives only in the ``queries`` module (or package) of a capability
package. Each function is named for what it reads or writes, takes keyword-only arguments and sends
named parameters (``%(name)s``); identifiers go through ``psycopg.sql``. Its docstring says which
Python rule it mirrors and why it is SQL; a test checks that both agree (tests/engagement/
test_queries_agree.py). Services and selectors call these functions; they hold no SQL themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import models
from psycopg import sql

# Django compiles a queryset with positional ``%s`` and writes a literal percent sign as ``%%``.
_ORM_PLACEHOLDER = re.compile(r"%[%s]")
_END = object()


def table(model: type[models.Model]) -> sql.Identifier:
    """The model's table as an SQL identifier."""
    return sql.Identifier(model._meta.db_table)


def render(query: sql.Composable) -> str:
    """The statement as text, named placeholders kept (identifiers need no connection to quote)."""
    return query.as_string(None)


def orm_subquery(sql_text: str, params: Sequence[Any], *, prefix: str) -> tuple[sql.SQL, dict[str, Any]]:
    """An ORM-compiled query as a fragment with named parameters ``<prefix>0``, ``<prefix>1``…

    psycopg takes one placeholder style per statement, and a queryset compiles to positional ones.
    """
    values = iter(params)
    named: dict[str, Any] = {}

    def name_it(match: re.Match[str]) -> str:
        if match.group() == "%%":
            return "%%"
        name = f"{prefix}{len(named)}"
        named[name] = next(values)
        return f"%({name})s"

    text = _ORM_PLACEHOLDER.sub(name_it, sql_text)
    if next(values, _END) is not _END:
        raise ValueError("The query has more parameters than placeholders.")
    return sql.SQL(text), named  # type: ignore[arg-type]  # text is a compiled query, not user input
