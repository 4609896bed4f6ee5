"""Shapes of the playbooks API (catalogue, entitlements, add-ons). The services validate."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import AccountAddOn, ServiceModule, TierEntitlement


class ServiceModuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceModule
        fields = [
            "code",
            "name",
            "kind",
            "description",
            "default_cadence_days",
            "expected_minutes",
            "is_active",
        ]
        read_only_fields = fields


class TierEntitlementInputSerializer(serializers.Serializer):
    tier = serializers.IntegerField()
    module = serializers.CharField(max_length=40)
    cadence_days = serializers.IntegerField(allow_null=True, required=False)


class TierEntitlementSerializer(serializers.ModelSerializer):
    module: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    tier_code = serializers.CharField(source="tier.code", read_only=True)
    policy_version = serializers.IntegerField(source="tier.policy.version", read_only=True)

    class Meta:
        model = TierEntitlement
        fields = ["id", "tier", "tier_code", "policy_version", "module", "cadence_days", "updated_at"]
        read_only_fields = fields


class AddOnInputSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    module = serializers.CharField(max_length=40)
    cadence_days = serializers.IntegerField(allow_null=True, required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)


class AddOnDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)


class AddOnSerializer(serializers.ModelSerializer):
    module: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    decided_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = AccountAddOn
        fields = [
            "id",
            "account",
            "module",
            "cadence_days",
            "status",
            "source",
            "note",
            "starts_on",
            "ends_on",
            "requested_by",
            "decided_by",
            "decided_at",
            "decision_reason",
            "created_at",
        ]
        read_only_fields = fields
