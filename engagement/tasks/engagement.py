"""Thin Celery tasks of engagement: take ids, call a service, safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from csplatform.scheduling import claim_slot

from ..services import capacity, coverage, flags, playbook_runs


@shared_task(name="engagement.tier_change_handle")
def tier_change_handle(*, account_id: int, from_code: str, to_code: str, change_id: int) -> None:
    playbook_runs.tier_change_handle(
        account_id=account_id, from_code=from_code, to_code=to_code, change_id=change_id
    )


@shared_task(name="engagement.tier_changes_handle")
def tier_changes_handle(*, change_ids: list[int]) -> None:
    """A review chunk applied many tier changes: handle them together (runs are keyed by change id)."""
    from segmentation.models import TierChange

    changes = TierChange.objects.filter(pk__in=change_ids, status="applied").values_list(
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


@shared_task(name="engagement.flags_detect")
def flags_detect(*, account_ids: list[int]) -> None:
    flags.flags_detect(account_ids=account_ids)


@shared_task(name="engagement.champions_check")
def champions_check(*, account_ids: list[int]) -> None:
    flags.champions_check(account_ids=account_ids)


@shared_task(name="engagement.coverage_recompute_accounts")
def coverage_recompute_accounts(*, account_ids: list[int]) -> None:
    coverage.coverage_recompute(account_ids=account_ids)


@shared_task(name="engagement.flags_nightly")
def flags_nightly() -> None:
    if not claim_slot("engagement.flags_nightly", every=timedelta(days=1)):
        return
    flags.flags_expire()
    flags.flags_detect()


@shared_task(name="engagement.coverage_nightly")
def coverage_nightly() -> None:
    if not claim_slot("engagement.coverage_nightly", every=timedelta(days=1)):
        return
    coverage.coverage_recompute()
    capacity.csm_portfolio_refresh()


@shared_task(name="engagement.csm_portfolio_refresh")
def csm_portfolio_refresh(*, account_ids: list[int], reassigned: bool = False) -> None:
    """The capacity summary of the CSMs owning these accounts (every CSM after a reassignment)."""
    capacity.csm_portfolio_refresh_accounts(account_ids=account_ids, reassigned=reassigned)


@shared_task(name="engagement.renewal_playbooks_nightly")
def renewal_playbooks_nightly() -> None:
    if not claim_slot("engagement.renewal_playbooks_nightly", every=timedelta(days=1)):
        return
    playbook_runs.renewal_playbooks_start()


@shared_task(name="engagement.demo_data", bind=True, max_retries=30)
def demo_data(self, *, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Demo touchpoints, tasks, commitments and flags once segmentation tiered the seeded accounts."""
    from ..services.demo import demo_engagement_create, seeded_accounts_tiered

    if not seeded_accounts_tiered():
        raise self.retry(countdown=5)
    demo_engagement_create(seed=seed)
