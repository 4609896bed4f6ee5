"""Accounts API: list/detail/create/patch, renewals and the CRM sync endpoints. Thin: parse, check, call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from csplatform import authorization
from csplatform.api_auth import ReadOnlyTokenPermission, RoleRequired
from csplatform.api_generics import ServiceCreateMixin
from csplatform.api_records import RecordValidator
from csplatform.pagination import IdCursorPagination

from ..filters import AccountFilter
from ..models import Account, RenewalOutcome
from ..selectors import account_renewals, accounts_for_api, accounts_visible_to, input_proposals_pending
from ..services import (
    SyncResult,
    account_create,
    accounts_sync,
    contacts_sync,
    metrics_sync,
    renewals_sync,
)
from ..services.accounts import account_version
from ..services.governance import (
    account_edit,
    account_input_proposal_approve,
    account_input_proposal_decline,
)
from .serializers import (
    AccountCreateSerializer,
    AccountEditProposedSerializer,
    AccountFieldsSerializer,
    AccountInputProposalSerializer,
    AccountRecordSerializer,
    AccountSerializer,
    AccountSyncRequestSerializer,
    ContactRecordSerializer,
    ContactSyncRequestSerializer,
    InputProposalDecisionSerializer,
    MetricRecordSerializer,
    MetricSyncRequestSerializer,
    RenewalOutcomeSerializer,
    RenewalRecordSerializer,
    RenewalSyncRequestSerializer,
    SyncEnvelopeSerializer,
    SyncResultSerializer,
)


class AccountPermission(permissions.BasePermission):
    """Role decides the method; the object check decides the account (invisible ones are 404)."""

    message = "Your role may not do this with accounts."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method == "POST":
            return authorization.may_create_accounts(request.user)
        return authorization.may_read_accounts(request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Account) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return authorization.may_edit_account(request.user, obj)


class SyncPermission(permissions.BasePermission):
    message = "Only integration users may sync records."

    def has_permission(self, request: Request, view: Any) -> bool:
        return authorization.may_sync(request.user)


API_PERMISSIONS = [permissions.IsAuthenticated, RoleRequired, ReadOnlyTokenPermission]


class AccountCursorPagination(IdCursorPagination):
    """Newest first, or by health with ``?ordering=health`` / ``-health`` (accounts without a
    health score last either way; ties by id)."""

    orderings = {"health": ("health_order", "id"), "-health": ("-health_order", "-id")}

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        wanted = request.query_params.get("ordering")
        if not wanted:
            return ("-id",)
        if wanted not in self.orderings:
            raise exceptions.ValidationError({"ordering": ["Use health or -health."]})
        return self.orderings[wanted]


def _with_health_order(accounts: QuerySet[Account], ordering: str | None) -> QuerySet[Account]:
    """The sort key of ``?ordering=health``: the score, with unscored accounts after every score."""
    if ordering == "health":
        return accounts.annotate(health_order=Coalesce("health_score", 101))
    if ordering == "-health":
        return accounts.annotate(health_order=Coalesce("health_score", -1))
    return accounts


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "ordering",
                enum=["health", "-health"],
                required=False,
                description="Order by health score (lowest first, or highest with -health).",
            )
        ],
        responses={
            200: AccountSerializer(many=True),
            404: OpenApiResponse(
                response=inline_serializer("InvalidCursor", fields={"detail": serializers.CharField()}),
                description="The cursor is not one this list handed out.",
            ),
        },
    ),
    post=extend_schema(request=AccountCreateSerializer, responses={201: AccountSerializer}),
)
class AccountListCreateView(ServiceCreateMixin, generics.ListCreateAPIView):
    """`GET /api/v1/accounts/`: the accounts the user may see, filtered; `POST` creates one."""

    permission_classes = [*API_PERMISSIONS, AccountPermission]
    serializer_class = AccountSerializer
    input_serializer_class = AccountCreateSerializer
    filterset_class = AccountFilter
    pagination_class = AccountCursorPagination

    def get_queryset(self) -> Any:
        accounts = accounts_for_api(user=self.request.user)
        return _with_health_order(accounts, self.request.query_params.get("ordering"))

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = account_create(
            actor=authorization.signed_in(self.request.user), source="api", **serializer.validated_data
        )


class AccountDetailView(generics.RetrieveUpdateAPIView):
    permission_classes = [*API_PERMISSIONS, AccountPermission]
    serializer_class = AccountSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return accounts_for_api(user=self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        account = self.get_object()
        return _with_etag(Response(AccountSerializer(account).data), account)

    @extend_schema(
        request=AccountFieldsSerializer(partial=True),
        parameters=[
            OpenApiParameter(
                "If-Match",
                location=OpenApiParameter.HEADER,
                required=False,
                description="The ETag of the account as read; a change made since then answers 409.",
            )
        ],
        responses={
            200: AccountSerializer,
            202: OpenApiResponse(
                response=AccountEditProposedSerializer,
                description="Tier inputs (ACV, lifecycle stage, renewal date) the editor may not write "
                "wait for CS Leadership as an input proposal; the other fields were saved.",
            ),
            409: OpenApiResponse(description="Changed by someone else."),
        },
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        account = self.get_object()
        incoming = AccountFieldsSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        edit = account_edit(
            account=account,
            actor=authorization.signed_in(request.user),
            source="api",
            data=incoming.validated_data,
            expected_version=_if_match(request),
        )
        account = self.get_queryset().get(pk=edit.account.pk)  # with the health columns
        if edit.proposal is None:
            return _with_etag(Response(AccountSerializer(account).data), account)
        body = {
            "account": AccountSerializer(account).data,
            "input_proposal": AccountInputProposalSerializer(edit.proposal).data,
        }
        return _with_etag(Response(body, status=202), account)


def _with_etag(response: Response, account: Account) -> Response:
    response["ETag"] = f'"{account_version(account)}"'
    return response


def _if_match(request: Request) -> str | None:
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    return header.removeprefix("W/").strip('"')


SyncService = Callable[..., SyncResult]


class SyncView(APIView):
    """One request of at most 1000 records: each validated alone, the valid ones applied together."""

    permission_classes = [*API_PERMISSIONS, SyncPermission]
    record_serializer_class: type[serializers.Serializer]
    sync_service: SyncService

    def post(self, request: Request) -> Response:
        envelope = SyncEnvelopeSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        crm_source = envelope.validated_data["crm_source"]
        valid, invalid = _validate_records(self.record_serializer_class(), envelope.validated_data["records"])
        result = self.sync_service(
            crm_source=crm_source, records=valid, actor=authorization.signed_in(request.user)
        )
        for index, external_id, errors in invalid:
            result.fail(index, external_id, errors)
        return Response(result.as_dict())


def _validate_records(
    checker: serializers.Serializer, records: list[Any]
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, Any, Any]]]:
    """Validate each record with one serializer instance (its fields are built once, not 1000 times;
    plainly valid records skip DRF's per-field machinery, see ``RecordValidator``)."""
    validator = RecordValidator(checker)
    valid: list[tuple[int, dict[str, Any]]] = []
    invalid: list[tuple[int, Any, Any]] = []
    for index, record in enumerate(records):
        try:
            valid.append((index, validator.validate(record)))
        except serializers.ValidationError as exc:
            external_id = record.get("external_id") if isinstance(record, dict) else None
            if external_id is not None and not isinstance(external_id, str):
                external_id = str(external_id)
            detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            invalid.append((index, external_id, detail))
    return valid, invalid


SYNC_RESPONSES = {
    200: SyncResultSerializer,
    400: OpenApiResponse(description="The envelope is invalid (e.g. more than 1000 records)."),
}


@extend_schema(request=AccountSyncRequestSerializer, responses=SYNC_RESPONSES)
class AccountSyncView(SyncView):
    record_serializer_class = AccountRecordSerializer
    sync_service = staticmethod(accounts_sync)


@extend_schema(request=ContactSyncRequestSerializer, responses=SYNC_RESPONSES)
class ContactSyncView(SyncView):
    record_serializer_class = ContactRecordSerializer
    sync_service = staticmethod(contacts_sync)


@extend_schema(request=MetricSyncRequestSerializer, responses=SYNC_RESPONSES)
class MetricSyncView(SyncView):
    record_serializer_class = MetricRecordSerializer
    sync_service = staticmethod(metrics_sync)


@extend_schema(request=RenewalSyncRequestSerializer, responses=SYNC_RESPONSES)
class RenewalSyncView(SyncView):
    """Renewal outcomes from the CRM, upserted by (account ``external_id``, ``renewal_date``)."""

    record_serializer_class = RenewalRecordSerializer
    sync_service = staticmethod(renewals_sync)


class NewestRenewalFirst(IdCursorPagination):
    # One outcome per account and date: the date alone orders the cursor.
    ordering = "-renewal_date"


class AccountRenewalListView(generics.ListAPIView):
    """`GET /api/v1/accounts/{id}/renewals/`: the outcomes of a visible account, newest first."""

    serializer_class = RenewalOutcomeSerializer
    pagination_class = NewestRenewalFirst

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no pk
            return RenewalOutcome.objects.none()
        account = generics.get_object_or_404(
            accounts_visible_to(user=self.request.user), pk=self.kwargs["pk"]
        )
        return account_renewals(account=account)


class InputProposalListView(generics.ListAPIView):
    """`GET /api/v1/account-input-proposals/`: pending changes to tier inputs on visible accounts
    (CS Leadership decides them; a CSM follows their own)."""

    permission_classes = [*API_PERMISSIONS]
    serializer_class = AccountInputProposalSerializer

    def get_queryset(self) -> Any:
        return input_proposals_pending(user=self.request.user)


class InputProposalDecisionView(APIView):
    permission_classes = [*API_PERMISSIONS]
    approve: bool

    @extend_schema(request=InputProposalDecisionSerializer, responses=AccountInputProposalSerializer)
    def post(self, request: Request, pk: int) -> Response:
        proposal = generics.get_object_or_404(input_proposals_pending(user=request.user), pk=pk)
        incoming = InputProposalDecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        decide = account_input_proposal_approve if self.approve else account_input_proposal_decline
        decided = decide(
            proposal=proposal, by=authorization.signed_in(request.user), note=incoming.validated_data["note"]
        )
        return Response(AccountInputProposalSerializer(decided).data)


class InputProposalApproveView(InputProposalDecisionView):
    approve = True


class InputProposalDeclineView(InputProposalDecisionView):
    approve = False
