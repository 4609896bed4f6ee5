"""CS Leadership decides changes to tier inputs that CSMs asked for (the approvals inbox).

The rule (who decides, not one's own request, only pending ones) is the service's,
``accounts.services.governance``, shared with the API and the admin.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from csplatform import authorization
from csplatform.htmx import HtmxHttpRequest, conflict, leaders_only

from .forms import InputProposalDecisionForm
from .selectors import input_proposals_pending
from .services.governance import account_input_proposal_approve, account_input_proposal_decline


@leaders_only
@require_POST
def input_proposal_decide(request: HtmxHttpRequest, input_proposal_id: int) -> HttpResponse:
    """Approve (the values are written, the tier re-evaluated) or decline, inline."""
    proposal = get_object_or_404(input_proposals_pending(user=request.user), pk=input_proposal_id)
    form = InputProposalDecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose approve or decline.", status=400, content_type="text/plain")
    decide = (
        account_input_proposal_approve
        if form.cleaned_data["decision"] == "approve"
        else account_input_proposal_decline
    )
    try:
        proposal = decide(
            proposal=proposal, by=authorization.signed_in(request.user), note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        return conflict(" ".join(exc.messages))
    if request.htmx:
        return render(request, "accounts/_input_proposal_row.html", {"p": proposal})
    return redirect("engagement:approvals")
