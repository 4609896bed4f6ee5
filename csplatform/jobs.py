"""Celery jobs of the project package. The task names are stored (beat schedules): they never change."""

from celery import shared_task

from . import dispatch


@shared_task(name="csplatform.dispatch_sweep", ignore_result=True)
def dispatch_sweep() -> int:
    """Re-publish tasks whose publish failed (broker down). Safe to run twice."""
    return dispatch.sweep()
