"""Segmentation API: tiers, tier history, reviews, overrides, proposals and health. Thin: parse, check
role and object, call a service or selector, answer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import accounts_visible_to
from csplatform import authorization
from csplatform.api_auth import ReadOnlyTokenPermission, RoleRequired
from csplatform.pagination import IdCursorPagination

from .. import selectors, selectors_health
from ..models import AccountHealth, HealthScorecard, TierChange, TierOverride, TierReview
from ..services import (
    ReviewInProgress,
    tier_override_approve,
    tier_override_decline,
    tier_override_request,
    tier_proposal_accept,
    tier_proposal_reject,
    tier_review_start,
)
from .serializers import (
    AccountHealthDaySerializer,
    HealthScorecardSerializer,
    OverrideDecisionSerializer,
    OverrideRequestSerializer,
    ProposalRejectSerializer,
    TierChangeSerializer,
    TierListSerializer,
    TierOverrideSerializer,
    TierProposalSerializer,
    TierReviewSerializer,
)


class ReviewPermission(permissions.BasePermission):
    message = "Only CS Leadership and integrations may start or follow tier reviews."

    def has_permission(self, request: Request, view: Any) -> bool:
        return authorization.may_run_reviews(request.user)


REVIEW_PERMISSIONS = [permissions.IsAuthenticated, RoleRequired, ReadOnlyTokenPermission, ReviewPermission]


class TierListView(APIView):
    @extend_schema(responses=TierListSerializer, summary="The active policy's tiers in rank order")
    def get(self, request: Request) -> Response:
        tiers = selectors.active_tiers_with_entitlements()
        return Response(TierListSerializer({"next": None, "previous": None, "results": tiers}).data)


class TierHistoryView(generics.ListAPIView):
    serializer_class = TierChangeSerializer

    def get_queryset(self) -> QuerySet[TierChange]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no pk
            return TierChange.objects.none()
        account = get_object_or_404(accounts_visible_to(user=self.request.user), pk=self.kwargs["pk"])
        return selectors.account_tier_history(account=account)


class TierReviewStartView(APIView):
    permission_classes = REVIEW_PERMISSIONS

    @extend_schema(
        request=None,
        responses={
            202: TierReviewSerializer,
            409: OpenApiResponse(TierReviewSerializer, "A review is running"),
        },
        summary="Start a review of all accounts under the active policy",
    )
    def post(self, request: Request) -> Response:
        try:
            review = tier_review_start(requested_by=authorization.signed_in(request.user))
        except ReviewInProgress as running:
            body = {**TierReviewSerializer(running.review).data, "detail": str(running)}
            return Response(body, status=status.HTTP_409_CONFLICT)
        review = selectors.review_get(review.pk)
        return Response(TierReviewSerializer(review).data, status=status.HTTP_202_ACCEPTED)


class TierReviewDetailView(generics.RetrieveAPIView):
    permission_classes = REVIEW_PERMISSIONS
    serializer_class = TierReviewSerializer
    queryset = TierReview.objects.select_related("policy")


class AccountOverrideView(APIView):
    """POST: override this account's tier (may need CS Leadership approval)."""

    @extend_schema(request=OverrideRequestSerializer, responses={201: TierOverrideSerializer})
    def post(self, request: Request, pk: int) -> Response:
        account = get_object_or_404(accounts_visible_to(user=request.user), pk=pk)
        data = OverrideRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = tier_override_request(
            account=account,
            by=authorization.signed_in(request.user),
            tier_code=data.validated_data["tier"],
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            expires_on=data.validated_data.get("expires_on"),
        )
        return Response(TierOverrideSerializer(override).data, status=status.HTTP_201_CREATED)


class OverrideListView(generics.ListAPIView):
    """Overrides on accounts the reader may see; ``?status=pending`` for the approval queue."""

    serializer_class = TierOverrideSerializer

    def get_queryset(self) -> QuerySet[TierOverride]:
        overrides = selectors.overrides_visible_to(user=self.request.user)
        wanted = self.request.query_params.get("status")
        return overrides.filter(status=wanted) if wanted else overrides


class OverrideDecisionView(APIView):
    decision = "approve"

    @extend_schema(request=OverrideDecisionSerializer, responses=TierOverrideSerializer)
    def post(self, request: Request, pk: int) -> Response:
        override = selectors.overrides_visible_to(user=request.user).filter(pk=pk).first()
        if override is None:
            raise Http404
        data = OverrideDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = tier_override_approve if self.decision == "approve" else tier_override_decline
        override = service(
            override=override, by=authorization.signed_in(request.user), note=data.validated_data["note"]
        )
        return Response(TierOverrideSerializer(override).data)


class ProposalListView(generics.ListAPIView):
    """Open tier proposals the reader may decide."""

    serializer_class = TierProposalSerializer

    def get_queryset(self) -> QuerySet[TierChange]:
        return selectors.proposals_open_for(user=self.request.user)


class ProposalAcceptView(APIView):
    @extend_schema(request=None, responses=TierChangeSerializer)
    def post(self, request: Request, pk: int) -> Response:
        change = selectors.proposals_open_for(user=request.user).filter(pk=pk).first()
        if change is None:
            raise Http404
        change = tier_proposal_accept(change=change, by=authorization.signed_in(request.user))
        return Response(TierChangeSerializer(change).data)


class ProposalRejectView(APIView):
    @extend_schema(request=ProposalRejectSerializer, responses=TierOverrideSerializer)
    def post(self, request: Request, pk: int) -> Response:
        change = selectors.proposals_open_for(user=request.user).filter(pk=pk).first()
        if change is None:
            raise Http404
        data = ProposalRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, override = tier_proposal_reject(
            change=change,
            by=authorization.signed_in(request.user),
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            expires_on=data.validated_data.get("expires_on"),
        )
        return Response(TierOverrideSerializer(override).data)


class HealthHistoryPagination(IdCursorPagination):
    ordering = "-date"  # one row a day per account: the date orders the history uniquely


class ScorecardPagination(IdCursorPagination):
    ordering = "-version"


class HealthHistoryView(generics.ListAPIView):
    """One row a day of the account's health, newest first (accounts the reader may see)."""

    serializer_class = AccountHealthDaySerializer
    pagination_class = HealthHistoryPagination

    def get_queryset(self) -> QuerySet[AccountHealth]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no pk
            return AccountHealth.objects.none()
        account = get_object_or_404(accounts_visible_to(user=self.request.user), pk=self.kwargs["pk"])
        return selectors_health.account_health_history(account=account)


class ScorecardReadPermission(permissions.BasePermission):
    message = "Only CSMs and CS Leadership may read health scorecards."

    def has_permission(self, request: Request, view: Any) -> bool:
        return authorization.may_read_health_scorecards(request.user)


class HealthScorecardListView(generics.ListAPIView):
    """Every health scorecard version with its components and bands, newest first."""

    permission_classes = [
        permissions.IsAuthenticated,
        RoleRequired,
        ReadOnlyTokenPermission,
        ScorecardReadPermission,
    ]
    serializer_class = HealthScorecardSerializer
    pagination_class = ScorecardPagination

    def get_queryset(self) -> QuerySet[HealthScorecard]:
        return selectors_health.health_scorecards().select_related("activated_by")
