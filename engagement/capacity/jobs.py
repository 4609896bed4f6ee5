"""Celery jobs that keep the per-CSM portfolio summary. Thin, safe to run twice; the name is stored."""

from __future__ import annotations

from celery import shared_task

from . import services as capacity


@shared_task(name="engagement.csm_portfolio_refresh")
def csm_portfolio_refresh(*, account_ids: list[int], reassigned: bool = False) -> None:
    """The capacity summary of the CSMs owning these accounts (every CSM after a reassignment),
    and the kept open-task minutes folded."""
    capacity.csm_portfolios_follow_up(account_ids=account_ids, reassigned=reassigned)


@shared_task(name="engagement.csm_portfolio_refresh_everyone")
def csm_portfolio_refresh_everyone() -> None:
    """The capacity summary of every CSM (after a tier review), and the kept open-task minutes
    folded (its playbooks add tasks by the thousand)."""
    capacity.csm_portfolios_follow_up()
