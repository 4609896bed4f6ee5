"""Signed survey links: the token names the survey and the contact, the score is in the query.

Signed with SECRET_KEY (``django.core.signing``), so the answer page needs no login, and a token
altered to name another contact or survey is refused. The score is not signed: it is what the
person picks, and the page lets them change it before answering.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "engagement.survey"
DEFAULT_MAX_AGE_DAYS = 180


class InvalidSurveyToken(Exception):
    """The token was forged, altered or has expired."""


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def survey_token(*, survey_id: int, contact_id: int) -> str:
    return _signer().sign(f"{signing.b62_encode(survey_id)}.{signing.b62_encode(contact_id)}")


def survey_and_contact_from_token(token: str) -> tuple[int, int]:
    max_age_days = getattr(settings, "SURVEY_LINK_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS)
    try:
        value = _signer().unsign(token, max_age=max_age_days * 24 * 3600)
        survey, contact = value.split(".")
        return signing.b62_decode(survey), signing.b62_decode(contact)
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidSurveyToken(str(exc)) from exc


_PLACEHOLDER = "TOKEN"


@lru_cache(maxsize=4)
def _url_pattern(site_url: str) -> str:
    return site_url + reverse("surveys:respond", kwargs={"token": _PLACEHOLDER})


def survey_url(*, survey_id: int, contact_id: int, score: int) -> str:
    token = survey_token(survey_id=survey_id, contact_id=contact_id)
    return f"{_url_pattern(settings.SITE_URL).replace(_PLACEHOLDER, token)}?score={score}"
