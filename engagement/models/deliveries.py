"""The ledger of delivered service: one row each time an account received a module."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class DeliverySource(models.TextChoices):
    TOUCHPOINT = "touchpoint", "Touchpoint"
    TASK = "task", "Completed task"
    EMAIL = "email", "Journey email"
    MANUAL = "manual", "Recorded by hand"


class ModuleDelivery(models.Model):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="module_deliveries"
    )
    module = models.ForeignKey("playbooks.ServiceModule", on_delete=models.PROTECT, related_name="deliveries")
    delivered_at = models.DateTimeField()
    # The calendar day of the delivery in the account's time zone: cadences count local days.
    delivered_on = models.DateField()
    source = models.CharField(max_length=12, choices=DeliverySource.choices)
    source_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "module deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id", "module"],
                condition=Q(source_id__isnull=False),
                name="moduledelivery_unique_source",
            )
        ]
        indexes = [
            models.Index(fields=["account", "module", "-delivered_on"], name="delivery_account_module")
        ]

    def __str__(self) -> str:
        return f"{self.module_id} to {self.account_id} on {self.delivered_on}"
