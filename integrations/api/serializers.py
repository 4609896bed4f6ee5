"""Webhook API serializers: small input serializers holding no rule, and the output shapes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.api.serializers import OffsetDateTimeField

from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


class WebhookInputSerializer(serializers.Serializer):
    # The URL's rules (scheme, credentials, private addresses) are the service's: a plain string here.
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=True)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    active = serializers.BooleanField(required=False, default=True)


class WebhookPatchSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.CharField(max_length=64), allow_empty=True, required=False
    )
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    active = serializers.BooleanField(required=False)


class WebhookSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    created_at = OffsetDateTimeField(read_only=True)
    updated_at = OffsetDateTimeField(read_only=True)
    failing_since = OffsetDateTimeField(read_only=True, allow_null=True)
    deactivated_at = OffsetDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "active",
            "description",
            "created_by",
            "created_at",
            "updated_at",
            "failing_since",
            "deactivated_at",
            "deactivated_reason",
        ]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to the POST: the only time the secret is shown."""

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="message.webhook_id", read_only=True)
    event = serializers.CharField(source="message.event", read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    next_attempt_at = OffsetDateTimeField(read_only=True, allow_null=True)
    delivered_at = OffsetDateTimeField(read_only=True, allow_null=True)
    created_at = OffsetDateTimeField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields
