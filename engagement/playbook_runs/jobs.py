"""Celery jobs that start playbooks: on tier changes, overrides, onboarding and nightly renewals.

Thin: take ids, call a service, safe to run twice. The task names are stored (beat schedules, the
task outbox): they never change.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from csplatform.scheduling import claim_slot

from . import services as playbook_runs


@shared_task(name="engagement.tier_change_handle")
def tier_change_handle(*, account_id: int, from_code: str, to_code: str, change_id: int) -> None:
    playbook_runs.tier_change_handle(
        account_id=account_id, from_code=from_code, to_code=to_code, change_id=change_id
    )


@shared_task(name="engagement.tier_changes_handle")
def tier_changes_handle(*, change_ids: list[int]) -> None:
    """A review chunk applied many tier changes: handle them together (runs are keyed by change id)."""
    from segmentation.models import ChangeStatus, TierChange

    changes = TierChange.objects.filter(pk__in=change_ids, status=ChangeStatus.APPLIED).values_list(
        "pk", "account_id", "from_code", "to_code"
    )
    playbook_runs.tier_changes_handle(changes=[playbook_runs.TierMove(*row) for row in changes])


@shared_task(name="engagement.override_playbooks")
def override_playbooks(*, account_id: int, override_id: int) -> None:
    from accounts.models import Account
    from playbooks.models import Trigger

    account = Account.objects.filter(pk=account_id).first()
    if account is not None:
        playbook_runs.playbooks_start(
            account=account, trigger=Trigger.OVERRIDE_APPLIED, key=f"override:{override_id}"
        )


@shared_task(name="engagement.onboarding_playbooks")
def onboarding_playbooks(*, account_ids: list[int]) -> None:
    playbook_runs.onboarding_playbooks_start(account_ids=account_ids)


@shared_task(name="engagement.renewal_playbooks_nightly")
def renewal_playbooks_nightly() -> None:
    if not claim_slot("engagement.renewal_playbooks_nightly", every=timedelta(days=1)):
        return
    playbook_runs.renewal_playbooks_start()


@shared_task(name="engagement.renewal_recorded_playbooks")
def renewal_recorded_playbooks(*, renewal_ids: list[int]) -> None:
    playbook_runs.renewal_recorded_playbooks_start(renewal_ids=renewal_ids)
