"""Engagement API: thin views that parse, check the role, and call one service or selector."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import SYNC_RESPONSES, SyncView
from accounts.models import Account
from accounts.selectors import account_for_input, accounts_visible_to
from csplatform import authorization, bounds
from csplatform.api_generics import ServiceCreateMixin
from csplatform.models import User

from ..capacity.selectors import csm_capacity, csm_suggestions_for_account
from ..coverage.selectors import coverage_for_account
from ..flags.selectors import flags_visible_to
from ..flags.services import flag_resolve
from ..handoffs.selectors import commitments_for
from ..handoffs.services import commitment_accept, commitment_decline, commitment_log
from ..models import FlagStatus, SurveyResponse, Task
from ..surveys.selectors import survey_responses_for
from ..todo.selectors import tasks_for_csm, tasks_visible_for_account, tasks_visible_to
from ..todo.services import task_complete, task_create, task_snooze
from ..touchpoints.selectors import touchpoints_for
from ..touchpoints.services import touchpoint_log
from ..touchpoints.sync import touchpoints_sync
from ..worklist.selectors import accounts_for_worklist
from . import serializers as s


def _account_filter(request: Request) -> int | None:
    return bounds.database_id_param(request.query_params.get("account"), field="account")


ACCOUNT_PARAM = OpenApiParameter("account", int, description="Only records of this account.")


@extend_schema(request=s.ActivitySyncRequestSerializer, responses=SYNC_RESPONSES)
class TouchpointSyncView(SyncView):
    """`POST /api/v1/touchpoints/sync/`: calls, meetings and emails from the CRM, calendar or
    mailbox, upserted by (`crm_source`, `external_id`)."""

    record_serializer_class = s.ActivityRecordSerializer
    sync_service = staticmethod(touchpoints_sync)


@extend_schema_view(
    get=extend_schema(parameters=[ACCOUNT_PARAM]),
    post=extend_schema(request=s.TouchpointInputSerializer, responses={201: s.TouchpointSerializer}),
)
class TouchpointListCreateView(ServiceCreateMixin, generics.ListCreateAPIView):
    """`GET /api/v1/touchpoints/?account=<id>` and `POST /api/v1/touchpoints/`."""

    serializer_class = s.TouchpointSerializer
    input_serializer_class = s.TouchpointInputSerializer

    def get_queryset(self) -> Any:
        return touchpoints_for(user=self.request.user, account_id=_account_filter(self.request))

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = touchpoint_log(
            by=authorization.signed_in(self.request.user),
            account=account_for_input(user=self.request.user, account_id=data["account"]),
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            minutes=data["minutes"],
            module_code=data.get("module") or None,
            notes=data["notes"],
            participant_ids=data["participants"],
        )


@extend_schema_view(
    get=extend_schema(parameters=[ACCOUNT_PARAM, OpenApiParameter("status", str)]),
    post=extend_schema(request=s.CommitmentInputSerializer, responses={201: s.CommitmentSerializer}),
)
class CommitmentListCreateView(ServiceCreateMixin, generics.ListCreateAPIView):
    """`GET|POST /api/v1/commitments/`: AEs log promises on their accounts; the response carries
    the check's `status` (`within_tier`, `exceeds_tier`, `accepted`, `declined`)."""

    serializer_class = s.CommitmentSerializer
    input_serializer_class = s.CommitmentInputSerializer

    def get_queryset(self) -> Any:
        commitments = commitments_for(user=self.request.user, account_id=_account_filter(self.request))
        wanted = self.request.query_params.get("status")
        return commitments.filter(status=wanted) if wanted else commitments

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = commitment_log(
            by=authorization.signed_in(self.request.user),
            account=account_for_input(user=self.request.user, account_id=data["account"]),
            module_code=data.get("module") or None,
            cadence_days=data.get("cadence_days"),
            description=data["description"],
            deal_reference=data["deal_reference"],
            note=data["note"],
        )


class CommitmentAcceptView(APIView):
    @extend_schema(request=s.CommitmentAcceptSerializer, responses={200: s.CommitmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.CommitmentAcceptSerializer, request)
        commitment = commitment_accept(
            by=authorization.signed_in(request.user),
            commitment=get_object_or_404(commitments_for(user=request.user), pk=pk),
            until=data.get("until"),
            note=data["note"],
        )
        return Response(s.CommitmentSerializer(commitment).data)


class CommitmentDeclineView(APIView):
    @extend_schema(request=s.CommitmentDeclineSerializer, responses={200: s.CommitmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.CommitmentDeclineSerializer, request)
        commitment = commitment_decline(
            by=authorization.signed_in(request.user),
            commitment=get_object_or_404(commitments_for(user=request.user), pk=pk),
            reason=data["reason"],
        )
        return Response(s.CommitmentSerializer(commitment).data)


@extend_schema_view(
    get=extend_schema(parameters=[ACCOUNT_PARAM]),
    post=extend_schema(request=s.TaskInputSerializer, responses={201: s.TaskSerializer}),
)
class TaskListCreateView(ServiceCreateMixin, generics.ListCreateAPIView):
    """`GET /api/v1/tasks/`: the signed-in CSM's open tasks (`?account=` for one account's tasks);
    `POST` creates one by hand."""

    serializer_class = s.TaskSerializer
    input_serializer_class = s.TaskInputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        account_id = _account_filter(self.request)
        if account_id is not None:
            # An account the user may not see simply has no tasks for them.
            return tasks_visible_for_account(account_id=account_id, user=self.request.user)
        return tasks_for_csm(csm=authorization.signed_in(self.request.user), include_snoozed=True)

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = task_create(
            by=authorization.signed_in(self.request.user),
            account=account_for_input(user=self.request.user, account_id=data["account"]),
            title=data["title"],
            due_on=data["due_on"],
            description=data["description"],
            checklist=data["checklist"],
            module_code=data.get("module") or None,
            estimated_minutes=data["estimated_minutes"],
        )


class TaskCompleteView(APIView):
    @extend_schema(request=None, responses={200: s.TaskSerializer})
    def post(self, request: Request, pk: int) -> Response:
        task = get_object_or_404(tasks_visible_to(user=request.user), pk=pk)
        task = task_complete(by=authorization.signed_in(request.user), task=task)
        return Response(s.TaskSerializer(task).data)


class TaskSnoozeView(APIView):
    @extend_schema(request=s.TaskSnoozeSerializer, responses={200: s.TaskSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.TaskSnoozeSerializer, request)
        task = task_snooze(
            by=authorization.signed_in(request.user),
            task=get_object_or_404(tasks_visible_to(user=request.user), pk=pk),
            until=data["until"],
            reason=data["reason"],
        )
        return Response(s.TaskSerializer(task).data)


class FlagListView(generics.ListAPIView):
    """`GET /api/v1/flags/?account=<id>`: open flags on the accounts the user may see."""

    serializer_class = s.FlagSerializer

    def get_queryset(self) -> Any:
        flags = flags_visible_to(user=self.request.user).filter(status=FlagStatus.OPEN)
        account_id = _account_filter(self.request)
        return flags.filter(account_id=account_id) if account_id is not None else flags

    @extend_schema(parameters=[ACCOUNT_PARAM])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SurveyResponseListView(generics.ListAPIView):
    """`GET /api/v1/survey-responses/?account=<id>`: answers on the accounts the user may see."""

    serializer_class = s.SurveyResponseSerializer
    queryset = SurveyResponse.objects.none()  # the schema's model; requests use get_queryset

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        if not authorization.may_read_accounts(self.request.user):
            raise exceptions.PermissionDenied("Your role cannot read survey responses.")
        return survey_responses_for(user=self.request.user, account_id=_account_filter(self.request))

    @extend_schema(parameters=[ACCOUNT_PARAM])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _preferences_data(user: User) -> dict[str, Any]:
    from ..models import NotificationKind
    from ..notifications.digests import digest_items_for
    from ..notifications.services import preference_for

    preference = preference_for(user)
    return {
        "digest_frequency": preference.digest_frequency,
        "digest_hour": preference.digest_hour,
        "digest_items": [i for i in digest_items_for(user) if i not in (preference.digest_items_off or [])],
        "in_app": [k for k in NotificationKind.values if k not in (preference.in_app_off or [])],
    }


class NotificationPreferencesView(APIView):
    """`GET|PUT /api/v1/notification-preferences/`: the signed-in person's own choices."""

    @extend_schema(responses={200: s.NotificationPreferencesSerializer})
    def get(self, request: Request) -> Response:
        return Response(_preferences_data(authorization.signed_in(request.user)))

    @extend_schema(
        request=s.NotificationPreferencesSerializer, responses={200: s.NotificationPreferencesSerializer}
    )
    def put(self, request: Request) -> Response:
        from django.core.exceptions import ValidationError as DjangoValidationError

        from ..notifications.services import notification_preferences_update

        user = authorization.signed_in(request.user)
        if not authorization.has_any_role(user):
            raise exceptions.PermissionDenied("Your role gets no notifications.")
        data = _valid(s.NotificationPreferencesSerializer, request)
        try:
            notification_preferences_update(user=user, **data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(_preferences_data(user))


class FlagResolveView(APIView):
    @extend_schema(request=s.FlagResolveSerializer, responses={200: s.FlagSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.FlagResolveSerializer, request)
        flag = get_object_or_404(flags_visible_to(user=request.user), pk=pk)
        flag = flag_resolve(by=authorization.signed_in(request.user), flag=flag, note=data["note"])
        return Response(s.FlagSerializer(flag).data)


class AccountCoverageView(APIView):
    """`GET /api/v1/accounts/{id}/coverage/`: each entitlement, last delivered, next due, overdue."""

    @extend_schema(responses={200: s.CoverageLineSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        account = get_object_or_404(accounts_visible_to(user=request.user), pk=pk)
        lines = coverage_for_account(account=account)
        return Response(s.CoverageLineSerializer(lines, many=True).data)


class WorklistView(APIView):
    """`GET /api/v1/worklist/`: the CSM's accounts in priority order with the reasons.
    Leaders may pass `?csm=<username>`."""

    @extend_schema(
        parameters=[
            OpenApiParameter("csm", str),
            OpenApiParameter("tier", str),
            OpenApiParameter("flag", str),
        ],
        responses={200: s.WorklistEntrySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        csm: User = request.user  # type: ignore[assignment]
        wanted = request.query_params.get("csm")
        if authorization.may_lead(request.user):  # leadership opens any CSM's worklist
            if not wanted:
                raise serializers.ValidationError({"csm": ["Name the CSM whose worklist to show."]})
            found = User.objects.filter(username=wanted).first()
            if found is None:
                raise serializers.ValidationError({"csm": [f"Unknown user '{wanted}'."]})
            csm = found
        elif not authorization.may_keep_worklist(request.user):
            raise exceptions.PermissionDenied("The worklist is for CSMs and CS Leadership.")
        entries = accounts_for_worklist(
            csm=csm,
            tier_code=request.query_params.get("tier") or None,
            flag_kind=request.query_params.get("flag") or None,
            limit=500,
        )
        return Response(s.WorklistEntrySerializer(entries, many=True).data)


class CsmSuggestionsView(APIView):
    """`GET /api/v1/accounts/{id}/csm-suggestions/` (CS Leadership): CSMs who would stay within
    capacity after taking the account, most room first."""

    @extend_schema(responses={200: s.CapacitySerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        if not authorization.may_lead(request.user):
            raise exceptions.PermissionDenied("Only CS Leadership assigns accounts.")
        account = get_object_or_404(Account, pk=pk)
        return Response(s.CapacitySerializer(csm_suggestions_for_account(account=account), many=True).data)


class CapacityView(APIView):
    """`GET /api/v1/capacity/`: weekly hours needed against capacity; leaders see every CSM."""

    @extend_schema(responses={200: s.CapacitySerializer(many=True)})
    def get(self, request: Request) -> Response:
        if authorization.may_lead(request.user):  # leadership sees every CSM
            rows = csm_capacity()
        elif authorization.may_keep_worklist(request.user):
            rows = csm_capacity(csm_ids=[authorization.signed_in(request.user).pk])
        else:
            raise exceptions.PermissionDenied("Capacity is shown to CSMs and CS Leadership.")
        return Response(s.CapacitySerializer(rows, many=True).data)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
