"""Playbooks API: the service catalogue, tier entitlements (leaders edit) and account add-ons."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account
from segmentation.models import Tier

from ..models import ServiceModule, TierEntitlement
from ..selectors import add_ons_visible_to
from ..services.catalogue import addon_decide, addon_request, entitlement_set
from . import serializers as s


def call_service(service: Any, **kwargs: Any) -> Any:
    try:
        return service(**kwargs)
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise serializers.ValidationError(detail) from None


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ServiceModuleListView(generics.ListAPIView):
    """`GET /api/v1/modules/`: the service module catalogue."""

    serializer_class = s.ServiceModuleSerializer
    queryset = ServiceModule.objects.all()


class EntitlementListCreateView(generics.ListAPIView):
    """`GET /api/v1/entitlements/` (active and draft policies) and `POST` to set one (CS Leadership)."""

    serializer_class = s.TierEntitlementSerializer

    def get_queryset(self) -> Any:
        return TierEntitlement.objects.select_related("tier__policy", "module").exclude(
            tier__policy__status="retired"
        )

    @extend_schema(request=s.TierEntitlementInputSerializer, responses={201: s.TierEntitlementSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(s.TierEntitlementInputSerializer, request)
        tier = Tier.objects.select_related("policy").filter(pk=data["tier"]).first()
        if tier is None:
            raise serializers.ValidationError({"tier": [f"Unknown tier {data['tier']}."]})
        entitlement = call_service(
            entitlement_set,
            by=request.user,
            tier=tier,
            module_code=data["module"],
            cadence_days=data.get("cadence_days"),
        )
        return Response(s.TierEntitlementSerializer(entitlement).data, status=status.HTTP_201_CREATED)


class AddOnListCreateView(generics.ListAPIView):
    """`GET|POST /api/v1/add-ons/`: à-la-carte modules for enterprise accounts, approved by leaders."""

    serializer_class = s.AddOnSerializer

    def get_queryset(self) -> Any:
        return add_ons_visible_to(user=self.request.user)

    @extend_schema(request=s.AddOnInputSerializer, responses={201: s.AddOnSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(s.AddOnInputSerializer, request)
        account = Account.objects.filter(pk=data["account"]).first()
        if account is None:
            raise serializers.ValidationError({"account": [f"Unknown account {data['account']}."]})
        add_on = call_service(
            addon_request,
            by=request.user,
            account=account,
            module_code=data["module"],
            cadence_days=data.get("cadence_days"),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            note=data["note"],
        )
        return Response(s.AddOnSerializer(add_on).data, status=status.HTTP_201_CREATED)


class AddOnDecideView(APIView):
    @extend_schema(request=s.AddOnDecisionSerializer, responses={200: s.AddOnSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.AddOnDecisionSerializer, request)
        add_on = get_object_or_404(add_ons_visible_to(user=request.user), pk=pk)
        add_on = call_service(
            addon_decide, by=request.user, add_on=add_on, approve=data["approve"], reason=data["reason"]
        )
        return Response(s.AddOnSerializer(add_on).data)
