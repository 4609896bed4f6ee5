"""API error handling: bad input is a 4xx that says what is wrong, never a 500."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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
    return drf_exception_handler(exc, context)


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
