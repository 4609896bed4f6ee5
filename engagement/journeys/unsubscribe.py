"""Signed unsubscribe tokens for RFC 8058 one-click unsubscribe links.

The token names the contact and is signed with SECRET_KEY (``django.core.signing``), so the
unsubscribe endpoint needs no login and no cookie, and nobody can unsubscribe someone else by
guessing an id. Tokens expire after ``JOURNEY_UNSUBSCRIBE_MAX_AGE_DAYS`` (default 400 days: people
unsubscribe from old emails too).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "engagement.unsubscribe"
DEFAULT_MAX_AGE_DAYS = 400


class InvalidUnsubscribeToken(Exception):
    """The token was forged, altered or has expired."""


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def unsubscribe_token(*, contact_id: int) -> str:
    return _signer().sign(signing.b62_encode(contact_id))


def contact_id_from_token(token: str) -> int:
    max_age_days = getattr(settings, "JOURNEY_UNSUBSCRIBE_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS)
    try:
        value = _signer().unsign(token, max_age=max_age_days * 24 * 3600)
        return signing.b62_decode(value)
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidUnsubscribeToken(str(exc)) from exc


_PLACEHOLDER = "TOKEN"


@lru_cache(maxsize=4)
def _url_pattern(site_url: str) -> str:
    return site_url + reverse("journeys:unsubscribe", kwargs={"token": _PLACEHOLDER})


def unsubscribe_url(*, contact_id: int) -> str:
    """The absolute https link put in List-Unsubscribe and in the email footer."""
    return _url_pattern(settings.SITE_URL).replace(_PLACEHOLDER, unsubscribe_token(contact_id=contact_id))
