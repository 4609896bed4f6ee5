"""Who is told what: signals become notification tasks (ids only, in the sender's transaction):
a flag raised tells the account's CSM, a commitment beyond the tier tells CS Leadership and its
decision the AE, a health fall, a survey answer and an override waiting for approval too."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from csplatform.dispatch import enqueue
from segmentation.models import OverrideStatus, TierOverride
from segmentation.signals import health_band_changed

from ..models import CommitmentStatus, HandoffCommitment
from ..signals import commitment_decided, commitment_logged, flags_raised, survey_responded
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


@receiver(flags_raised, dispatch_uid="engagement.notifications.flags_raised")
def on_flags_raised(sender: Any, *, flag_ids: list[int], **kwargs: Any) -> None:
    notify("flag", list(flag_ids))


@receiver(commitment_logged, dispatch_uid="engagement.notifications.commitment_logged")
def on_commitment_logged(sender: Any, *, commitment_id: int, **kwargs: Any) -> None:
    # Only a promise beyond the tier waits for leadership.
    if HandoffCommitment.objects.filter(pk=commitment_id, status=CommitmentStatus.EXCEEDS_TIER).exists():
        notify("commitment_waiting", [commitment_id])


@receiver(commitment_decided, dispatch_uid="engagement.notifications.commitment_decided")
def on_commitment_decided(sender: Any, *, commitment_id: int, **kwargs: Any) -> None:
    notify("commitment_decided", [commitment_id])
