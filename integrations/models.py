"""Outbound webhooks (Standard Webhooks): endpoints, the messages sent to them, and every attempt.

A ``WebhookMessage`` is one event with its exact body and its ``webhook-id``; a ``WebhookDelivery``
is that message for one endpoint (the outbox row a sender claims); a ``WebhookAttempt`` logs each
POST. The body is stored as sent so that every retry signs and sends the same bytes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class WebhookEventType(models.TextChoices):
    ACCOUNT_TIER_CHANGED = "account.tier_changed", "An account's tier changed"
    ACCOUNT_HEALTH_BAND_CHANGED = "account.health_band_changed", "An account's health band changed"
    OVERRIDE_REQUESTED = "override.requested", "A tier override was requested"
    OVERRIDE_DECIDED = "override.decided", "A tier override was approved or declined"
    COMMITMENT_LOGGED = "commitment.logged", "An AE logged a handoff commitment"
    COMMITMENT_DECIDED = "commitment.decided", "A commitment beyond the tier was accepted or declined"
    FLAG_RAISED = "flag.raised", "A flag was raised on an account"
    RENEWAL_RECORDED = "renewal.recorded", "A renewal outcome was recorded"
    SURVEY_RESPONDED = "survey.responded", "A contact answered a survey"


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    events = ArrayField(models.CharField(max_length=64), help_text="Event types sent to this endpoint.")
    active = models.BooleanField(default=True)
    # ``whsec_`` + base64 of 24 random bytes; shown once, when the endpoint is created.
    secret = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by the first failure after a success; an endpoint failing long enough is deactivated.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["active"], name="webhookendpoint_active")]

    def __str__(self) -> str:
        return self.url


class WebhookMessage(models.Model):
    webhook_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=64, choices=WebhookEventType.choices)
    body = models.TextField(help_text="The JSON body exactly as it is signed and sent.")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.webhook_id} ({self.event})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Failures are retried until then; a redelivery on demand is one attempt.
    retry_until = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The next attempt was asked for by a person (logged as such; no automatic retries after it).
    on_demand = models.BooleanField(default=False)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "message"], name="webhookdelivery_unique_message"),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="webhookdelivery_pending_has_time",
            ),
        ]
        indexes = [
            # The sender's queue: only rows waiting or in flight are indexed.
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["endpoint", "-id"], name="webhookdelivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True, default="")
    response_excerpt = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    on_demand = models.BooleanField(default=False, help_text="A redelivery someone asked for.")

    class Meta:
        indexes = [models.Index(fields=["delivery", "-attempted_at"], name="webhookattempt_delivery")]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
