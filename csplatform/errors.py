"""Errors that services raise for the views to answer, beside Django's own.

Services raise Django's ``ValidationError`` (bad input, field by field), ``PermissionDenied`` and
``Http404``; a state that changed under the request is a ``ConcurrentChange``. The API answers
all of them in one place (``csplatform.api_errors``); page views answer them their own way.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ConcurrentChange(Exception):
    """The request acted on something that changed meanwhile: the API answers 409.

    ``public_message`` is what the client reads; the exception's own text may hold internals
    (a constraint name) and is only logged.
    """

    public_message = "This was changed by someone else at the same time; reload and retry."


def errors_by_field(exc: ValidationError, *, without_field: str) -> dict[str, list[str]]:
    """A ``ValidationError``'s messages by field; those raised without a field under
    ``without_field`` (the API's ``non_field_errors``, a page's name for the whole decision)."""
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {without_field: exc.messages}
