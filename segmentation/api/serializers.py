"""Input and output shapes of the segmentation API. No rules here: services own them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    AccountHealth,
    HealthComponent,
    HealthScorecard,
    OverrideReason,
    TierChange,
    TierOverride,
    TierReview,
)


class EntitlementSerializer(serializers.Serializer):
    module = serializers.CharField()
    cadence_days = serializers.IntegerField(allow_null=True)


class TierSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    rank = serializers.IntegerField()
    touch_model = serializers.CharField()
    min_acv = serializers.DecimalField(max_digits=14, decimal_places=2)
    entitlements = EntitlementSerializer(many=True)


class TierListSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TierSerializer(many=True)


class TierChangeSerializer(serializers.ModelSerializer):
    from_tier = serializers.CharField(source="from_code")
    to_tier = serializers.CharField(source="to_code")
    by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    steps = serializers.JSONField()

    class Meta:
        model = TierChange
        fields = [
            "id",
            "from_tier",
            "to_tier",
            "source",
            "status",
            "explanation",
            "steps",
            "applied_at",
            "by",
        ]


class TierProposalSerializer(TierChangeSerializer):
    """A proposal names its account: the reader decides it from a list across accounts."""

    class Meta(TierChangeSerializer.Meta):
        fields = ["id", "account", *TierChangeSerializer.Meta.fields[1:]]


class TierReviewSerializer(serializers.ModelSerializer):
    policy_version = serializers.IntegerField(source="policy.version")

    class Meta:
        model = TierReview
        fields = [
            "id",
            "status",
            "policy_version",
            "accounts_total",
            "accounts_done",
            "changes_applied",
            "changes_proposed",
            "started_at",
            "finished_at",
        ]


class OverrideRequestSerializer(serializers.Serializer):
    tier = serializers.CharField(max_length=10)
    reason = serializers.ChoiceField(choices=OverrideReason.choices)
    note = serializers.CharField(max_length=2000)
    expires_on = serializers.DateField(required=False, allow_null=True)


class OverrideDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ProposalRejectSerializer(OverrideRequestSerializer):
    tier = None  # type: ignore[assignment]  # rejecting keeps the account's current tier


class TierOverrideSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id")
    tier = serializers.CharField(source="tier_code")
    policy_tier = serializers.CharField(source="policy_tier_code")
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    decided_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = TierOverride
        fields = [
            "id",
            "account",
            "tier",
            "policy_tier",
            "reason",
            "note",
            "expires_on",
            "status",
            "needs_approval",
            "requested_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]


class AccountHealthDaySerializer(serializers.ModelSerializer):
    scorecard_version = serializers.IntegerField(source="scorecard.version")

    class Meta:
        model = AccountHealth
        fields = ["date", "score", "band", "scorecard_version"]


class HealthComponentSerializer(serializers.ModelSerializer):
    weight = serializers.DecimalField(max_digits=6, decimal_places=3, coerce_to_string=False)
    points = serializers.JSONField(help_text='Ascending steps [{"from": value, "points": 0-100}].')

    class Meta:
        model = HealthComponent
        fields = ["signal", "weight", "direction", "points", "missing_points"]


class HealthBandsSerializer(serializers.Serializer):
    watch_from = serializers.IntegerField(help_text="Scores below this are at_risk.")
    healthy_from = serializers.IntegerField(help_text="Scores from this on are healthy.")


class HealthScorecardSerializer(serializers.ModelSerializer):
    components = HealthComponentSerializer(many=True)
    bands = serializers.SerializerMethodField()
    activated_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = HealthScorecard
        fields = ["version", "name", "status", "components", "bands", "activated_by", "activated_at"]

    @extend_schema_field(HealthBandsSerializer)
    def get_bands(self, scorecard: HealthScorecard) -> dict[str, int]:
        return {"watch_from": scorecard.watch_from, "healthy_from": scorecard.healthy_from}
