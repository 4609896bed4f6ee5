"""Input and output serializers for the accounts API. They parse and render; rules live in services."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from csplatform import bounds

from ..models import (
    Account,
    AccountInputProposal,
    ChurnReason,
    LifecycleStage,
    Region,
    RenewalOutcome,
    RenewalOutcomeKind,
    TierSource,
    Vertical,
)
from ..selectors import account_health, account_tier
from ..services import MAX_SYNC_RECORDS


class OffsetDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a numeric offset (``+00:00``), as the API contract shows."""

    def to_representation(self, value: dt.datetime | None) -> Any:
        if not value:
            return None
        return self.enforce_timezone(value).isoformat()


class OwnerField(serializers.CharField):
    """A username or an email; resolved to a user by the service (one query for a whole batch)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class AccountTierSerializer(serializers.Serializer):
    """The effective tier as shown on an account (null before the first evaluation)."""

    code = serializers.CharField()
    name = serializers.CharField()
    source = serializers.ChoiceField(choices=TierSource.values)  # type: ignore[assignment]
    explanation = serializers.CharField()


class AccountHealthSerializer(serializers.Serializer):
    """The latest health as shown on an account (null before the first computation)."""

    score = serializers.IntegerField(min_value=0, max_value=100)
    band = serializers.ChoiceField(choices=["healthy", "watch", "at_risk"])
    as_of = serializers.DateField()
    trend_30d = serializers.IntegerField(allow_null=True, help_text="Score minus the score 30 days earlier.")
    scorecard_version = serializers.IntegerField(allow_null=True)
    explanation = serializers.CharField(allow_null=True)


class AccountSerializer(serializers.ModelSerializer):
    csm: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    ae: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    # Declared so the schema says "" is a possible value (read-only model fields lose allow_blank).
    vertical = serializers.ChoiceField(choices=Vertical.choices, allow_blank=True, read_only=True)
    region = serializers.ChoiceField(choices=Region.choices, allow_blank=True, read_only=True)
    tier = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()
    created_at = OffsetDateTimeField(read_only=True)
    updated_at = OffsetDateTimeField(read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "crm_source",
            "external_id",
            "name",
            "domain",
            "vertical",
            "region",
            "acv",
            "lifecycle_stage",
            "contract_start",
            "renewal_date",
            "csm",
            "ae",
            "tier",
            "health",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AccountTierSerializer(allow_null=True))
    def get_tier(self, account: Account) -> dict[str, str] | None:
        return account_tier(account)

    @extend_schema_field(AccountHealthSerializer(allow_null=True))
    def get_health(self, account: Account) -> dict[str, Any] | None:
        health = account_health(account)
        return None if health is None else AccountHealthSerializer(health).data


class AccountFieldsSerializer(serializers.Serializer):
    """The writable account fields, shared by create, patch and sync records."""

    name = serializers.CharField(max_length=255)
    domain = serializers.CharField(max_length=255, allow_blank=True, required=False)
    vertical = serializers.ChoiceField(choices=Vertical.choices, allow_blank=True, required=False)
    region = serializers.ChoiceField(choices=Region.choices, allow_blank=True, required=False)
    acv = bounds.MONEY.serializer_field(required=False)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, required=False)
    contract_start = bounds.BUSINESS_DATE.serializer_field(allow_null=True, required=False)
    renewal_date = bounds.BUSINESS_DATE.serializer_field(allow_null=True, required=False)
    csm = OwnerField(help_text="Username or email of the owning CSM; null clears it.")
    ae = OwnerField(help_text="Username or email of the owning Account Executive; null clears it.")


class AccountInputProposalSerializer(serializers.ModelSerializer):
    """A change to an account's tier inputs waiting for (or decided by) CS Leadership."""

    changes = serializers.DictField(child=serializers.CharField(allow_blank=True), read_only=True)
    previous = serializers.DictField(child=serializers.CharField(allow_blank=True), read_only=True)
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    decided_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    requested_at = OffsetDateTimeField(read_only=True)
    decided_at = OffsetDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = AccountInputProposal
        fields = [
            "id",
            "account",
            "changes",
            "previous",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class AccountEditProposedSerializer(serializers.Serializer):
    """A PATCH whose tier inputs wait for CS Leadership (202): the account as saved and the proposal."""

    account = AccountSerializer(read_only=True)
    input_proposal = AccountInputProposalSerializer(read_only=True)


class InputProposalDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class AccountCreateSerializer(AccountFieldsSerializer):
    crm_source = serializers.CharField(max_length=40, required=False, default="manual")
    external_id = serializers.CharField(max_length=100)


class AccountRecordSerializer(AccountFieldsSerializer):
    """One record of an account sync: ``name`` is required only for an account that is new."""

    external_id = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=255, required=False)


class ContactRecordSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, help_text="The account's CRM id.")
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    role = serializers.CharField(max_length=120, allow_blank=True, required=False)
    is_champion = serializers.BooleanField(required=False)
    is_executive = serializers.BooleanField(required=False)
    time_zone = serializers.CharField(max_length=64, allow_blank=True, required=False)
    email_opt_out = serializers.BooleanField(
        required=False, help_text="true records an opt-out; false never clears one."
    )

    def validate_time_zone(self, value: str) -> str:
        if value and value not in _time_zone_names():
            raise serializers.ValidationError(f'"{value}" is not an IANA time zone name.')
        return value


@functools.cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class MetricRecordSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, help_text="The account's CRM id.")
    period_start = bounds.BUSINESS_DATE.serializer_field()
    active_users = bounds.USAGE_COUNT.serializer_field(required=False)
    licensed_seats = bounds.USAGE_COUNT.serializer_field(required=False)
    support_tickets = bounds.USAGE_COUNT.serializer_field(required=False)
    feature_adoption = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False
    )


class SyncEnvelopeSerializer(serializers.Serializer):
    """``{"crm_source": ..., "records": [...]}``; records are validated one by one afterwards."""

    crm_source = serializers.CharField(max_length=40)
    # No child field: each record is validated on its own afterwards, so that one bad record
    # fails alone instead of failing the whole request.
    records = serializers.ListField(allow_empty=True)

    def validate_records(self, records: list[Any]) -> list[Any]:
        if len(records) > MAX_SYNC_RECORDS:
            raise serializers.ValidationError(
                f"At most {MAX_SYNC_RECORDS} records per request; this one has {len(records)}. "
                "Send the rest in further requests."
            )
        return records


def envelope_for(record_serializer: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """A request serializer for the schema: the envelope with typed records."""
    return type(
        name,
        (SyncEnvelopeSerializer,),
        {"records": record_serializer(many=True, help_text=f"At most {MAX_SYNC_RECORDS} records.")},
    )


class RenewalRecordSerializer(serializers.Serializer):
    """One renewal outcome of a sync; the outcome rules are the service's (field-named errors)."""

    external_id = serializers.CharField(max_length=100, help_text="The account's CRM id.")
    renewal_date = serializers.DateField()
    outcome = serializers.ChoiceField(choices=RenewalOutcomeKind.choices)
    arr_before = bounds.MONEY.serializer_field()
    arr_after = bounds.MONEY.serializer_field(help_text="0.00 for a churned renewal.")
    churn_reason = serializers.ChoiceField(
        choices=ChurnReason.choices,
        allow_null=True,
        allow_blank=True,
        required=False,
        help_text="Required for a churned renewal; null (or left out) otherwise.",
    )
    note = serializers.CharField(max_length=2000, allow_blank=True, allow_null=True, required=False)


class RenewalOutcomeSerializer(serializers.ModelSerializer):
    churn_reason = serializers.SerializerMethodField()
    recorded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    created_at = OffsetDateTimeField(read_only=True)
    updated_at = OffsetDateTimeField(read_only=True)

    class Meta:
        model = RenewalOutcome
        fields = [
            "id",
            "renewal_date",
            "outcome",
            "arr_before",
            "arr_after",
            "churn_reason",
            "note",
            "source",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ChurnReason.choices, allow_null=True))
    def get_churn_reason(self, renewal: RenewalOutcome) -> str | None:
        return renewal.churn_reason or None


AccountSyncRequestSerializer = envelope_for(AccountRecordSerializer, "AccountSyncRequestSerializer")
ContactSyncRequestSerializer = envelope_for(ContactRecordSerializer, "ContactSyncRequestSerializer")
MetricSyncRequestSerializer = envelope_for(MetricRecordSerializer, "MetricSyncRequestSerializer")
RenewalSyncRequestSerializer = envelope_for(RenewalRecordSerializer, "RenewalSyncRequestSerializer")


class SyncErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in the request, from 0.")
    external_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class SyncResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = SyncErrorSerializer(many=True)  # type: ignore[assignment]
