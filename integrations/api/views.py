"""Webhook API: thin views that check the role and call one service or selector."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from csplatform import authorization
from csplatform.api_auth import ReadOnlyTokenPermission, RoleRequired
from csplatform.api_generics import ServiceCreateMixin

from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from ..selectors import endpoint_deliveries, webhook_endpoints
from ..services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)
from . import serializers as s


class WebhookPermission(permissions.BasePermission):
    message = "Only CS Leadership and integrations manage webhooks."

    def has_permission(self, request: Request, view: Any) -> bool:
        return authorization.may_manage_webhooks(request.user)


API_PERMISSIONS = [permissions.IsAuthenticated, RoleRequired, ReadOnlyTokenPermission, WebhookPermission]


@extend_schema_view(
    post=extend_schema(request=s.WebhookInputSerializer, responses={201: s.WebhookCreatedSerializer})
)
class WebhookListCreateView(ServiceCreateMixin, generics.ListCreateAPIView):
    """`GET|POST /api/v1/webhooks/`: the secret is in the POST's answer only."""

    permission_classes = API_PERMISSIONS
    input_serializer_class = s.WebhookInputSerializer

    def get_serializer_class(self) -> Any:
        return s.WebhookCreatedSerializer if self.request.method == "POST" else s.WebhookSerializer

    def get_queryset(self) -> Any:
        return webhook_endpoints()

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = webhook_endpoint_create(
            by=authorization.signed_in(self.request.user),
            url=data["url"],
            events=data["events"],
            description=data["description"],
            active=data["active"],
        )


@extend_schema_view(
    patch=extend_schema(request=s.WebhookPatchSerializer, responses={200: s.WebhookSerializer})
)
class WebhookDetailView(generics.RetrieveUpdateDestroyAPIView):
    """`GET|PATCH|DELETE /api/v1/webhooks/{id}/`."""

    permission_classes = API_PERMISSIONS
    serializer_class = s.WebhookSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        return webhook_endpoints()

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        incoming = s.WebhookPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(
            by=authorization.signed_in(request.user), endpoint=endpoint, changes=dict(incoming.validated_data)
        )
        return Response(s.WebhookSerializer(endpoint).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        webhook_endpoint_delete(by=authorization.signed_in(self.request.user), endpoint=instance)


STATUS_PARAM = OpenApiParameter(
    "status", str, enum=DeliveryStatus.values, description="Only deliveries in this state."
)


@extend_schema_view(get=extend_schema(parameters=[STATUS_PARAM]))
class WebhookDeliveryListView(generics.ListAPIView):
    """`GET /api/v1/webhooks/{id}/deliveries/`: newest first."""

    permission_classes = API_PERMISSIONS
    serializer_class = s.WebhookDeliverySerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no pk
            return WebhookDelivery.objects.none()
        endpoint = get_object_or_404(WebhookEndpoint, pk=self.kwargs["pk"])
        wanted = self.request.query_params.get("status") or None
        if wanted is not None and wanted not in DeliveryStatus.values:
            raise serializers.ValidationError(
                {"status": [f"Unknown status {wanted!r}; choose one of {', '.join(DeliveryStatus.values)}."]}
            )
        return endpoint_deliveries(endpoint=endpoint, status=wanted)


@extend_schema(request=None, responses={202: s.WebhookDeliverySerializer})
class WebhookRedeliverView(APIView):
    """`POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver/`: send it again now."""

    permission_classes = API_PERMISSIONS

    def post(self, request: Request, pk: int, delivery_id: int) -> Response:
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, endpoint_id=pk)
        delivery = webhook_delivery_redeliver(by=authorization.signed_in(request.user), delivery=delivery)
        delivery.refresh_from_db()
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
