"""The day sums of the retention report follow the outcomes they add up.

Receivers run inside the sender's transaction (``accounts.signals`` are sent in it, and Django's
``post_delete`` too), so the sums commit with the outcomes: a report never counts an outcome that
was changed or deleted by the figures it had before. Connected in ``EngagementConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import RenewalOutcome
from accounts.signals import renewal_recorded

from . import services


@receiver(renewal_recorded, dispatch_uid="engagement.retention.renewal_recorded")
def on_renewal_recorded(sender: Any, *, renewal_ids: list[int], **kwargs: Any) -> None:
    # Only outcomes whose segments are kept are in the sums (a new one never is).
    dates = list(
        RenewalOutcome.objects.filter(pk__in=renewal_ids, segments_at_renewal__isnull=False).values_list(
            "renewal_date", flat=True
        )
    )
    if dates:
        services.retention_day_sums_refresh(dates=dates)


@receiver(post_delete, sender=RenewalOutcome, dispatch_uid="engagement.retention.renewal_deleted")
def on_renewal_deleted(sender: Any, *, instance: RenewalOutcome, **kwargs: Any) -> None:
    if instance.segments_at_renewal is not None:
        services.retention_day_sums_refresh(dates=[instance.renewal_date])
