"""Thin survey tasks: take ids, call a service, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="engagement.touchpoint_survey_start", ignore_result=True)
def touchpoint_survey_start(*, touchpoint_id: int) -> int:
    from .services import touchpoint_survey_start as start

    return start(touchpoint_id=touchpoint_id)
