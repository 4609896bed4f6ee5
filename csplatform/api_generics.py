"""DRF generic views whose writes go through a service.

A create view lists with DRF's ``ListCreateAPIView`` (pagination, filters, serializer) and
creates through ``ServiceCreateMixin``: the body is checked by its own small input serializer,
``perform_create`` hands the valid data to one service, and the answer is the view's output
serializer. No rule lives in the view; the service's errors reach ``csplatform.api_errors``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response


class ServiceCreateMixin(generics.GenericAPIView):
    """POST: validate with ``input_serializer_class``; ``perform_create`` calls the service and
    sets ``serializer.instance`` to what it made (as ``serializer.save()`` would); answer 201 with
    ``serializer_class``."""

    input_serializer_class: type[serializers.Serializer]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        self.perform_create(incoming)
        return Response(self.get_serializer(incoming.instance).data, status=status.HTTP_201_CREATED)

    def perform_create(self, serializer: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must call its service in perform_create().")
