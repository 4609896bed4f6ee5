"""Engagement and account health (connected in EngagementConfig.ready()).

A fall into ``at_risk`` raises a flag; a touchpoint or a flag changes the health inputs, so the
account's health is recomputed. Receivers only enqueue tasks with ids.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from csplatform.dispatch import enqueue
from segmentation.services.health import enqueue_health_recompute
from segmentation.signals import health_band_changed

from ..models import Flag, Touchpoint
from .jobs import health_flags_raise


@receiver(health_band_changed, dispatch_uid="engagement.health_band_changed")
def on_health_band_changed(
    sender: Any, *, account_ids: list[int], from_bands: list[str], to_bands: list[str], **kwargs: Any
) -> None:
    fell = [
        account_id
        for account_id, was, now in zip(account_ids, from_bands, to_bands, strict=True)
        if now == "at_risk" and was != "at_risk"
    ]
    if fell:
        enqueue(health_flags_raise, account_ids=fell)


@receiver(post_save, sender=Touchpoint, dispatch_uid="engagement.health.touchpoint_saved")
@receiver(post_save, sender=Flag, dispatch_uid="engagement.health.flag_saved")
def on_health_input_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    enqueue_health_recompute(account_ids=[instance.account_id])
