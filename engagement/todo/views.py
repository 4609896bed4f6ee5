"""CSM tasks on the pages: complete or snooze one inline, and the account's open tasks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.selectors_web import visible_account_or_404
from csplatform import authorization
from csplatform.htmx import (
    DIALOG_BODY,
    HtmxHttpRequest,
    add_service_errors,
    conflict,
    register_account_section,
    render_fragment,
)

from ..clock import local_today
from ..models import TaskStatus
from ..worklist.views import account_action_response
from .forms import SnoozeForm
from .selectors import tasks_for_account, tasks_visible_to
from .services import task_complete, task_snooze

SECTIONS = "engagement/account_sections.html"


@require_POST
def task_complete_view(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(tasks_visible_to(user=request.user), pk=task_id)
    try:
        task_complete(by=authorization.signed_in(request.user), task=task)
    except ValidationError as exc:
        return conflict(" ".join(exc.messages))
    return account_action_response(request, task.account_id, f"Task done: {task.title}.")


@require_http_methods(["GET", "POST"])
def task_snooze_view(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(tasks_visible_to(user=request.user), pk=task_id)
    if not authorization.may_do_cs_work(request.user, task.account, assignee_id=task.assignee_id):
        raise PermissionDenied("Only the account's CSM, the assignee or CS Leadership may snooze tasks.")
    if request.method == "POST":
        form = SnoozeForm(request.POST)
        if form.is_valid():
            try:
                task_snooze(
                    by=authorization.signed_in(request.user),
                    task=task,
                    until=form.cleaned_data["until"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                if "status" in getattr(exc, "message_dict", {}):
                    return conflict(" ".join(exc.message_dict["status"]))
                add_service_errors(form, exc)
            else:
                return account_action_response(request, task.account_id, f"Task snoozed: {task.title}.")
        context = {"form": form, "task": task, "origin": request.POST.get("from", "")}
        response = render(request, "engagement/snooze_form.html", context, status=422)
        return reswap(retarget(response, DIALOG_BODY), "innerHTML") if request.htmx else response
    context = {"form": SnoozeForm(), "task": task, "origin": request.GET.get("from", "")}
    return render(request, "engagement/snooze_form.html", context)


@require_GET
def account_tasks(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    tasks = [t for t in tasks_for_account(account=account) if t.status == TaskStatus.OPEN]
    return render_fragment(
        request, SECTIONS, "tasks", {"account": account, "tasks": tasks, "today": local_today()}
    )


def register_pages() -> None:
    register_account_section("tasks", "Open tasks", "engagement:account-tasks", order=30)
