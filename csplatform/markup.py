"""Markup built in Python where the template engine costs a page more than its query (the
worklist's rows, the filter bars' widgets)."""

from __future__ import annotations

from html import escape
from typing import Any


def escape_html(value: Any) -> str:
    """``conditional_escape`` without its lazy-string wrapper (a few hundred calls a page): safe
    strings pass through, everything else is escaped as template autoescaping escapes it."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return escape(str(value))
