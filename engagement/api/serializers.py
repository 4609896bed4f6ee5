"""Input and output shapes of the engagement API. No rule lives here: the services validate."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.api.serializers import envelope_for
from csplatform import bounds

from ..models import Flag, HandoffCommitment, SurveyResponse, Task, Touchpoint, TouchpointKind


class TouchpointInputSerializer(serializers.Serializer):
    account = bounds.DATABASE_ID.serializer_field()
    kind = serializers.ChoiceField(choices=TouchpointKind.choices)
    occurred_at = bounds.BUSINESS_DATE.serializer_datetime_field()
    minutes = bounds.TOUCHPOINT_MINUTES.serializer_field()
    module = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=40)
    notes = serializers.CharField(allow_blank=True, required=False, default="", max_length=10_000)
    participants = serializers.ListField(
        child=bounds.DATABASE_ID.serializer_field(), required=False, default=list, max_length=100
    )


class ActivityRecordSerializer(serializers.Serializer):
    """One activity of ``POST /api/v1/touchpoints/sync/``; the rules that need the account (a day
    after tomorrow in its zone) or the database (person, module) are the service's."""

    external_id = serializers.CharField(max_length=120)
    account_external_id = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=TouchpointKind.choices)
    occurred_at = serializers.DateTimeField()
    minutes = serializers.IntegerField(min_value=0, max_value=24 * 60 * 7)
    by = serializers.CharField(max_length=254, help_text="Username or email of the person who did it.")
    module = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=40)
    notes = serializers.CharField(allow_blank=True, required=False, default="", max_length=10_000)


ActivitySyncRequestSerializer = envelope_for(ActivityRecordSerializer, "ActivitySyncRequestSerializer")


class TouchpointSerializer(serializers.ModelSerializer):
    module: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    logged_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    participants: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "account",
            "kind",
            "occurred_at",
            "minutes",
            "module",
            "notes",
            "participants",
            "logged_by",
            "crm_source",
            "external_id",
            "created_at",
        ]
        read_only_fields = fields


class CommitmentInputSerializer(serializers.Serializer):
    account = bounds.DATABASE_ID.serializer_field()
    module = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=40)
    cadence_days = bounds.CADENCE_DAYS.serializer_field(allow_null=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False, default="", max_length=5000)
    deal_reference = serializers.CharField(allow_blank=True, required=False, default="", max_length=120)
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=5000)


class CommitmentSerializer(serializers.ModelSerializer):
    module: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    logged_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    decided_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = HandoffCommitment
        fields = [
            "id",
            "account",
            "module",
            "cadence_days",
            "description",
            "deal_reference",
            "note",
            "status",
            "check_explanation",
            "checked_tier_code",
            "logged_by",
            "decided_by",
            "decided_at",
            "decision_reason",
            "exception_until",
            "created_at",
        ]
        read_only_fields = fields


class CommitmentAcceptSerializer(serializers.Serializer):
    until = bounds.BUSINESS_DATE.serializer_field(required=False, allow_null=True)
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)


class CommitmentDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000)


class TaskInputSerializer(serializers.Serializer):
    account = bounds.DATABASE_ID.serializer_field()
    title = serializers.CharField(max_length=200, allow_blank=True)
    due_on = bounds.BUSINESS_DATE.serializer_field()
    description = serializers.CharField(allow_blank=True, required=False, default="", max_length=5000)
    checklist = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )
    module = serializers.CharField(allow_null=True, allow_blank=True, required=False, max_length=40)
    estimated_minutes = bounds.ESTIMATED_MINUTES.serializer_field(required=False, default=30)


class TaskSerializer(serializers.ModelSerializer):
    module: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    assignee: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "account",
            "title",
            "description",
            "checklist",
            "due_on",
            "status",
            "snoozed_until",
            "snooze_reason",
            "module",
            "estimated_minutes",
            "assignee",
            "tier_code",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields


class TaskSnoozeSerializer(serializers.Serializer):
    until = bounds.BUSINESS_DATE.serializer_field()
    reason = serializers.CharField(allow_blank=True, max_length=255)


class FlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flag
        fields = [
            "id",
            "account",
            "kind",
            "status",
            "explanation",
            "detail",
            "raised_at",
            "expires_at",
            "closed_at",
        ]
        read_only_fields = fields


class FlagResolveSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=300)


class CoverageLineSerializer(serializers.Serializer):
    module = serializers.CharField(source="module_code")
    module_name = serializers.CharField()
    cadence_days = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    last_delivered_on = serializers.DateField(allow_null=True)
    next_due_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()


class WorklistEntrySerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk")
    name = serializers.CharField(source="account.name")
    tier = serializers.CharField(source="account.tier_code")
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    overdue_entitlements = serializers.IntegerField()
    open_flags = serializers.ListField(child=serializers.CharField())
    days_to_renewal = serializers.IntegerField(allow_null=True)


class CapacitySerializer(serializers.Serializer):
    csm = serializers.CharField(source="csm.username")
    accounts = serializers.IntegerField()
    capacity_hours = serializers.DecimalField(max_digits=7, decimal_places=2)
    required_hours = serializers.DecimalField(max_digits=9, decimal_places=2)
    entitlement_hours = serializers.DecimalField(max_digits=9, decimal_places=2)
    task_hours = serializers.DecimalField(max_digits=9, decimal_places=2)
    utilisation = serializers.FloatField(allow_null=True)
    overloaded = serializers.BooleanField()


class SurveyResponseSerializer(serializers.ModelSerializer):
    """API.md, Surveys: `kind` is `nps` or `csat`; `journey` is the journey's id or null."""

    class Meta:
        model = SurveyResponse
        fields = ["id", "account", "contact", "kind", "score", "comment", "responded_at", "journey"]
        read_only_fields = fields


class NotificationPreferencesSerializer(serializers.Serializer):
    """The person's own notification choices (what the digest holds, how often, what the bell shows)."""

    digest_frequency = serializers.CharField()
    digest_hour = serializers.IntegerField()
    digest_items = serializers.ListField(child=serializers.CharField())
    in_app = serializers.ListField(child=serializers.CharField())
