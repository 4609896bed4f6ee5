"""API error handling, the one path from an error to an answer: bad input is a 4xx that says what
is wrong, never a 500.

API views call services and let their errors propagate; this handler (``EXCEPTION_HANDLER``)
turns what services raise into the API's error bodies:

- Django's ``ValidationError``: 400 with DRF's field-keyed body (errors not tied to a field under
  ``non_field_errors``, as DRF's own serializers put them);
- Django's ``PermissionDenied`` and ``Http404``: 403 and 404 with ``detail`` (DRF does this);
- ``ConcurrentChange``, and an ``IntegrityError`` that got past a service (two requests racing
  for the same unique row): 409 with ``detail``;
- a request body over the limit: 413; a lost database: 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ConcurrentChange, errors_by_field

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = ConcurrentChange.public_message
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return Response(
            {"detail": "The database is unavailable; try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return drf_exception_handler(_as_api_exception(exc), context)


def _as_api_exception(exc: Exception) -> Exception:
    """The DRF exception for an error a service raised; DRF's own (and 404/403) pass as they are."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_validation_detail(exc))
    if isinstance(exc, ConcurrentChange):
        return Conflict(exc.public_message)
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error answered as a conflict: %s", exc)
        return Conflict()
    return exc


def _validation_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """Django's errors in DRF's shape: by field, or under ``non_field_errors`` when they have none."""
    return errors_by_field(exc, without_field=api_settings.NON_FIELD_ERRORS_KEY)


# --- OpenAPI: the error responses every operation can give (API.md, "Errors") --------------------
# drf-spectacular documents only the success response; clients (and the schema fuzzing in CI) need
# the error statuses too. Views may still document their own; those are kept.

_ERROR = {"$ref": "#/components/schemas/ErrorDetail"}
_ERROR_COMPONENTS = {
    "ErrorDetail": {
        "type": "object",
        "description": "An error: `detail` says what is wrong.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationErrors": {
        "type": "object",
        "description": 'Field-keyed errors (`{"acv": ["A valid number is required."]}`), or `detail`.',
        "additionalProperties": True,
    },
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
_UNSAFE = {"post", "put", "patch", "delete"}


def _error(description: str, schema: dict[str, Any] = _ERROR, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add 400/401/403/404/409/413/429 where they can occur."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(_ERROR_COMPONENTS)
    validation = {"$ref": "#/components/schemas/ValidationErrors"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            wanted = {
                "401": _error("Not authenticated: no, or an invalid, token or session."),
                "403": _error("Authenticated, but the role (or a read-only token) does not allow this."),
                "429": _error("Too many requests.", headers=_RETRY_AFTER),
            }
            takes_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if method in _UNSAFE or takes_query:
                wanted["400"] = _error("Invalid input, field by field.", validation)
            if "{" in path:
                wanted["404"] = _error("No such object, or not one this user may see.")
            if method in _UNSAFE:
                wanted["409"] = _error("Conflicts with the current state (a concurrent change).")
                wanted["413"] = _error("Request body too large.")
            for status_code, response in wanted.items():
                responses.setdefault(status_code, response)
    return result


def page_not_found(request: Any, exception: Exception | None = None) -> Any:
    """``handler404``: the API answers JSON even for a URL that matches no route."""
    if request.path_info.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views import defaults

    return defaults.page_not_found(request, exception)
