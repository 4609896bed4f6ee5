"""Playbooks API: the service catalogue, tier entitlements (leaders edit) and account add-ons."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import account_for_input
from csplatform.api_generics import ServiceCreateMixin
from csplatform.authorization import signed_in
from segmentation.models import PolicyStatus, Tier

from ..models import ServiceModule, TierEntitlement
from ..selectors import add_ons_visible_to
from ..services.catalogue import addon_decide, addon_request, entitlement_set
from . import serializers as s


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ServiceModuleListView(generics.ListAPIView):
    """`GET /api/v1/modules/`: the service module catalogue."""

    serializer_class = s.ServiceModuleSerializer
    queryset = ServiceModule.objects.all()


@extend_schema_view(
    post=extend_schema(request=s.TierEntitlementInputSerializer, responses={201: s.TierEntitlementSerializer})
)
class EntitlementListCreateView(ServiceCreateMixin, generics.ListCreateAPIView):
    """`GET /api/v1/entitlements/` (active and draft policies) and `POST` to set one (CS Leadership)."""

    serializer_class = s.TierEntitlementSerializer
    input_serializer_class = s.TierEntitlementInputSerializer

    def get_queryset(self) -> Any:
        return TierEntitlement.objects.select_related("tier__policy", "module").exclude(
            tier__policy__status=PolicyStatus.RETIRED
        )

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        tier = Tier.objects.select_related("policy").filter(pk=data["tier"]).first()
        if tier is None:
            raise serializers.ValidationError({"tier": [f"Unknown tier {data['tier']}."]})
        serializer.instance = entitlement_set(
            by=signed_in(self.request.user),
            tier=tier,
            module_code=data["module"],
            cadence_days=data.get("cadence_days"),
        )


@extend_schema_view(post=extend_schema(request=s.AddOnInputSerializer, responses={201: s.AddOnSerializer}))
class AddOnListCreateView(ServiceCreateMixin, generics.ListCreateAPIView):
    """`GET|POST /api/v1/add-ons/`: à-la-carte modules for enterprise accounts, approved by leaders."""

    serializer_class = s.AddOnSerializer
    input_serializer_class = s.AddOnInputSerializer

    def get_queryset(self) -> Any:
        return add_ons_visible_to(user=self.request.user)

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        account = account_for_input(user=self.request.user, account_id=data["account"])
        serializer.instance = addon_request(
            by=signed_in(self.request.user),
            account=account,
            module_code=data["module"],
            cadence_days=data.get("cadence_days"),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            note=data["note"],
        )


class AddOnDecideView(APIView):
    @extend_schema(request=s.AddOnDecisionSerializer, responses={200: s.AddOnSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.AddOnDecisionSerializer, request)
        add_on = get_object_or_404(add_ons_visible_to(user=request.user), pk=pk)
        add_on = addon_decide(
            by=signed_in(request.user), add_on=add_on, approve=data["approve"], reason=data["reason"]
        )
        return Response(s.AddOnSerializer(add_on).data)
