"""Celery jobs that detect, check and expire account flags. Thin, safe to run twice; names are stored."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from csplatform.scheduling import claim_slot

from . import services as flags


@shared_task(name="engagement.flags_detect")
def flags_detect(*, account_ids: list[int]) -> None:
    flags.flags_detect(account_ids=account_ids)


@shared_task(name="engagement.champions_check")
def champions_check(*, account_ids: list[int]) -> None:
    flags.champions_check(account_ids=account_ids)


@shared_task(name="engagement.flags_nightly")
def flags_nightly() -> None:
    if not claim_slot("engagement.flags_nightly", every=timedelta(days=1)):
        return
    flags.flags_expire()
    flags.flags_detect()
