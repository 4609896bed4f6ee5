"""The markup of one worklist row, built in Python.

A page holds 25 rows of some sixty template nodes each; the template engine resolving and
rendering those nodes was most of the page's time. The markup is the one the page's template
showed (``templates/engagement/worklist.html`` keeps the rest of the page), every value escaped
as the template's autoescaping did.
"""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from csplatform.markup import escape_html as _e

from .selectors import WorklistRow

PROPOSAL_EXPLANATION_CHARS = 110


def _dialog_link(url: str, label: str) -> str:
    """A link that opens its form in the page's dialog (a plain link without HTMX)."""
    href = f"{_e(url)}?from=worklist"
    return (
        f'<a class="btn btn-small" href="{href}" hx-get="{href}" hx-target="#app-dialog-body" '
        f'hx-swap="innerHTML">{label}</a>'
    )


def _post_form(url: str, row_id: str, csrf_token: str, indent: str, label: str) -> str:
    """A one-button form that posts from the worklist and swaps the refreshed row in."""
    action = _e(url)
    return (
        f'<form method="post" action="{action}" class="inline-form"\n'
        f'{indent}      hx-post="{action}" hx-target="#worklist-row-{row_id}" hx-swap="outerHTML" '
        f'hx-disabled-elt="find button"><input type="hidden" name="csrfmiddlewaretoken" '
        f'value="{_e(csrf_token)}"><input type="hidden" name="from" value="worklist">\n'
        f'{indent}  <button class="btn btn-small" type="submit">{label}</button></form>'
    )


def _tier_cell(row: WorklistRow) -> str:
    account = row.account
    if account.tier_code:
        badge = (
            f'<span class="badge badge-tier-{_e(account.tier_rank or "none")}" '
            f'title="{_e(account.tier_name)}">{_e(account.tier_code)}</span>'
        )
    else:
        badge = '<span class="badge badge-tier-none">No tier</span>'
    override = (
        '<div><span class="badge badge-warn small">override</span></div>'
        if account.tier_source == "override"
        else ""
    )
    health = row.health
    health_badge = (
        f'<div><span class="badge badge-{_e(health[0])} small" data-testid="health-badge" '
        f'title="Health score and band">{_e(health[1])}</span></div>'
        if health
        else ""
    )
    return f"      <td>{badge}\n        {override}\n        {health_badge}</td>\n"


def _why_cell(row: WorklistRow, row_id: str, csrf_token: str, proposal_urls: bool) -> str:
    reasons = "".join(
        f'<li><span class="badge badge-{_e(kind)}">{_e(text)}</span></li>' for kind, text in row.reasons
    )
    reasons = reasons or '<li class="muted small">On track</li>'
    html = f'      <td>\n        <ul class="why">{reasons}</ul>\n        '
    proposal = row.proposal
    if proposal is not None:
        explanation = _e(Truncator(proposal.explanation).chars(PROPOSAL_EXPLANATION_CHARS))
        html += (
            f'\n        <div class="row small" id="proposal-{proposal.id}">\n'
            f"          <span>{explanation}</span>\n          "
        )
        if proposal_urls:
            accept = _post_form(row.urls["proposal_accept"], row_id, csrf_token, "          ", "Accept")
            dispute = _dialog_link(row.urls["proposal_dispute"], "Dispute…")
            html += f"\n          {accept}\n          {dispute}\n          "
        html += "\n        </div>\n        "
    return html + "\n      </td>\n"


def _task_cell(row: WorklistRow, row_id: str, csrf_token: str, task_urls: bool) -> str:
    task = row.task
    if task is None:
        return '      <td>\n        <span class="muted small">No open task</span>\n      </td>\n'
    state = "badge badge-bad" if row.task_overdue else "muted"
    snoozed = f" · snoozed to {task.snoozed_until.isoformat()}" if task.snoozed_until else ""
    html = (
        f"      <td>\n        \n          <div>{_e(task.title)}</div>\n"
        f'          <div class="small {state}">due {_e(row.task_due_on)}{snoozed}</div>\n          '
    )
    if task_urls:
        done = _post_form(row.urls["task_complete"], row_id, csrf_token, "            ", "Done")
        snooze = _dialog_link(row.urls["task_snooze"], "Snooze…")
        html += (
            f'\n          <div class="row">\n            {done}\n            {snooze}\n          </div>\n'
            "          "
        )
    return html + "\n        \n      </td>\n"


def worklist_row_html(
    row: WorklistRow,
    *,
    csrf_token: str,
    updated: bool = False,
    touchpoint_urls: bool = False,
    task_urls: bool = False,
    proposal_urls: bool = False,
    override_urls: bool = False,
) -> SafeString:
    """One ``<tr>`` of the worklist; the ``*_urls`` switches show the inline actions."""
    account = row.account
    row_id = str(account.id)
    urls = row.urls
    updated_class = ' class="row-updated"' if updated else ""
    renews = f" · renews {_e(row.renews_on)}" if account.renewal_date else ""
    touchpoint = _dialog_link(urls["touchpoint"], "Log touchpoint") if touchpoint_urls else ""
    override = _dialog_link(urls["override"], "Override tier…") if override_urls else ""
    html = (
        f'<tr id="worklist-row-{row_id}"{updated_class} '
        f'hx-get="{_e(urls["row"])}" hx-trigger="account-changed-{row_id} from:body" hx-swap="outerHTML">\n'
        f'      <td><a href="{_e(urls["account"])}">{_e(account.name)}</a>\n'
        f'        <div class="small muted">{_e(row.lifecycle)}{renews}</div>\n'
        '        <div class="small muted" data-testid="last-touch">'
        f"Last touch: {_e(row.last_touch_on or 'never')}</div>\n"
        "      </td>\n"
        f"{_tier_cell(row)}"
        f'      <td class="num">{_e(row.acv)}</td>\n'
        f"{_why_cell(row, row_id, csrf_token, proposal_urls)}"
        f"{_task_cell(row, row_id, csrf_token, task_urls)}"
        '      <td class="actions">\n'
        f"        {touchpoint}\n"
        f"        {override}\n"
        "      </td>\n"
        "    </tr>"
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped
