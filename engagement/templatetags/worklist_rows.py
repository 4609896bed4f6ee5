"""``{% worklist_row row %}``: one worklist row (``engagement.worklist.row_html``) with the inline
actions the page's context offers."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from engagement.worklist.row_html import worklist_row_html
from engagement.worklist.selectors import WorklistRow

register = template.Library()


@register.simple_tag(takes_context=True)
def worklist_row(context: template.Context, row: WorklistRow) -> SafeString:
    return worklist_row_html(
        row,
        csrf_token=str(context.get("csrf_token", "")),
        updated=bool(context.get("updated")),
        touchpoint_urls=bool(context.get("touchpoint_urls")),
        task_urls=bool(context.get("task_urls")),
        proposal_urls=bool(context.get("proposal_urls")),
        override_urls=bool(context.get("override_urls")),
    )
