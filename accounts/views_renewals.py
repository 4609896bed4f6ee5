"""The renewals section of the account page: outcomes, ARR history and the form to record one."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from csplatform import authorization
from csplatform.htmx import HtmxHttpRequest, add_service_errors, render_fragment, trigger_notice

from .forms import RenewalOutcomeForm
from .models import Account
from .selectors_renewals import renewal_section
from .selectors_web import visible_account_or_404
from .services import renewal_record

TEMPLATE = "accounts/renewals_section.html"
# The account page holds other forms in dialogs (an override's note): ids of their own keep each
# label pointing at its own field.
RENEWAL_FIELD_IDS = "renewal-%s"


def _render(
    request: HtmxHttpRequest, account: Account, form: RenewalOutcomeForm | None, *, status: int = 200
) -> HttpResponse:
    can_record = authorization.may_record_renewal(request.user, account)
    if can_record and form is None:
        form = RenewalOutcomeForm(
            auto_id=RENEWAL_FIELD_IDS,
            initial={
                "renewal_date": account.renewal_date,
                "arr_before": account.acv,
                "arr_after": account.acv,
            },
        )
    context = {
        "section": renewal_section(account),
        "account": account,
        "form": form if can_record else None,
        "fragment_title": f"{account.name}: renewals",
    }
    return render_fragment(request, TEMPLATE, "section", context, status=status)


@require_http_methods(["GET", "POST"])
def renewals_section(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """GET: the section. POST: record an outcome (the account's CSM or CS Leadership); errors come
    back inline (422), success tells the page the account changed so its sections reload."""
    account = visible_account_or_404(request.user, account_id)
    if request.method == "GET":
        return _render(request, account, None)
    if not authorization.may_record_renewal(request.user, account):
        raise PermissionDenied("Only the account's CSM or CS Leadership record renewal outcomes.")
    form = RenewalOutcomeForm(request.POST, auto_id=RENEWAL_FIELD_IDS)
    if form.is_valid():
        data = form.cleaned_data
        try:
            renewal = renewal_record(
                account=account,
                renewal_date=data["renewal_date"],
                outcome=data["outcome"],
                arr_before=data["arr_before"],
                arr_after=data["arr_after"],
                churn_reason=data["churn_reason"],
                note=data["note"],
                actor=authorization.signed_in(request.user),
                source="web",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            outcome = renewal.get_outcome_display().lower()
            notice = f"Renewal of {renewal.renewal_date:%Y-%m-%d} recorded: {outcome}."
            if not request.htmx:
                from django.contrib import messages

                messages.success(request, notice)
                return redirect("accounts:detail", account_id=account.pk)
            response = trigger_notice(HttpResponse(status=204), notice)
            return trigger_client_event(response, "accountChanged", {"account": account.pk})
    return _render(request, account, form, status=422)
