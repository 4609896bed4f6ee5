"""Surveys follow touchpoints (a one-off survey after a QBR) and answers move health.

Receivers only add rows to the task outbox, in the sender's transaction.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from csplatform.dispatch import enqueue
from segmentation.services.health import enqueue_health_recompute

from ..models import Touchpoint, TouchpointSurveyRule
from ..signals import survey_responded
from . import jobs


@receiver(post_save, sender=Touchpoint, dispatch_uid="engagement.surveys.touchpoint_saved")
def survey_after_touchpoint(sender: Any, instance: Touchpoint, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    if TouchpointSurveyRule.objects.filter(touchpoint_kind=instance.kind, is_active=True).exists():
        enqueue(jobs.touchpoint_survey_start, touchpoint_id=instance.pk)


@receiver(survey_responded, dispatch_uid="engagement.surveys.health")
def survey_answer_moves_health(sender: Any, *, account_id: int, **kwargs: Any) -> None:
    """The survey component of the account's health reads the new answer."""
    enqueue_health_recompute(account_ids=[account_id])
