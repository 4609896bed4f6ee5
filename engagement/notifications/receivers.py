"""Who is told what: other apps' signals become notification tasks (ids only, in the sender's
transaction). Flags and commitments, which engagement writes itself, enqueue the same task from
their services."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from csplatform.dispatch import enqueue
from segmentation.models import OverrideStatus, TierOverride
from segmentation.signals import health_band_changed

from ..signals import survey_responded
from . import jobs


def notify(about: str, ids: list[int], detail: dict[str, Any] | None = None) -> None:
    """Enqueue the notifications about ``ids`` (see ``services.notifications_write``)."""
    if ids:
        enqueue(jobs.notifications_write, about=about, ids=list(ids), detail=detail)


@receiver(health_band_changed, dispatch_uid="engagement.notifications.health_band_changed")
def on_health_band_changed(
    sender: Any, *, account_ids: list[int], from_bands: list[str], to_bands: list[str], **kwargs: Any
) -> None:
    order = {"healthy": 2, "watch": 1, "at_risk": 0}
    fell = [
        (account_id, was, band)
        for account_id, was, band in zip(account_ids, from_bands, to_bands, strict=True)
        if was and order.get(band, 2) < order.get(was, 2)
    ]
    if fell:
        notify(
            "health",
            [a for a, _, _ in fell],
            {"from_bands": [w for _, w, _ in fell], "to_bands": [b for _, _, b in fell]},
        )


@receiver(survey_responded, dispatch_uid="engagement.notifications.survey_responded")
def on_survey_responded(sender: Any, *, response_id: int, **kwargs: Any) -> None:
    notify("survey", [response_id])


@receiver(post_save, sender=TierOverride, dispatch_uid="engagement.notifications.override_saved")
def on_override_saved(sender: Any, instance: TierOverride, created: bool, **kwargs: Any) -> None:
    if created and instance.status == OverrideStatus.PENDING and not kwargs.get("raw"):
        notify("override", [instance.pk])
