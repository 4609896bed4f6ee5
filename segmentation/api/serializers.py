"""Input and output shapes of the segmentation API. No rules here: services own them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import OverrideReason, TierChange, TierOverride, TierReview


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
