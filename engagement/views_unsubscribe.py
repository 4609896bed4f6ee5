"""RFC 8058 one-click unsubscribe: POST unsubscribes, GET only asks.

Mail providers POST ``List-Unsubscribe=One-Click`` to the link without cookies or a session, so
this one view needs no login and no CSRF token; the signed token in the URL is the proof. A GET
(a person clicking the link, or a link scanner) only shows a page with a button.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import Contact

from .services.journeys import contact_unsubscribe
from .unsubscribe import InvalidUnsubscribeToken, contact_id_from_token


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact_id = contact_id_from_token(token)
    except InvalidUnsubscribeToken:
        return render(request, "unsubscribe/invalid.html", status=400)
    contact = Contact.objects.filter(pk=contact_id).only("id", "email", "unsubscribed_at").first()
    if contact is None:
        return render(request, "unsubscribe/invalid.html", status=400)
    if request.method == "POST":
        contact_unsubscribe(contact_id=contact.pk)
        return render(request, "unsubscribe/done.html", {"email": _masked(contact.email)})
    return render(
        request,
        "unsubscribe/confirm.html",
        {"email": _masked(contact.email), "already": contact.unsubscribed_at is not None},
    )
