"""How many accounts each CSM owns per tier, so capacity dashboards never group every account."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CsmPortfolioSummary(models.Model):
    """Accounts (not churned) a CSM owns in one tier; rewritten per CSM by
    ``csm_portfolio_refresh`` when a portfolio changes, and for every CSM nightly."""

    csm = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tier_code = models.CharField(max_length=10, blank=True, default="")
    accounts = models.PositiveIntegerField()
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["csm", "tier_code"], name="csmportfolio_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.csm_id} {self.tier_code or '—'}: {self.accounts}"


class CsmPortfolioLoad(models.Model):
    """One row per CSM that the team capacity panel reads whole, instead of joining every user
    with their groups and folding every (CSM, tier) summary row. Two writers keep it, each writing
    only its own columns of the row: two writes to one row take turns on its lock, and neither
    undoes the other's columns.

    - ``weekly_minutes``: the entitled minutes per week over the portfolio, written with the CSM's
      ``CsmPortfolioSummary`` rows under the tier entitlements of that moment, which
      ``entitlements_key`` fingerprints (NULL: no portfolio written yet, 0 minutes under any).
      When the entitlements have changed since, the keys differ and the panel folds the summary
      again until the next refresh.
    - ``capacity_hours``: the user's weekly capacity while they are an active user of the CSM
      group, NULL otherwise, kept by the database itself: statement-level triggers (migration
      0027) on the user, user-group and group tables re-derive it for the users a statement
      touched (for everyone when a group is renamed or removed), whoever writes: the admin, a bulk
      update, a deletion. ``csm_capacity`` reads the users themselves; a test holds the two
      definitions equal (tests/engagement/test_capacity_team_kept.py)."""

    csm = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    weekly_minutes = models.FloatField(default=0)
    entitlements_key = models.CharField(max_length=64, null=True, blank=True)
    refreshed_at = models.DateTimeField()
    capacity_hours = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.csm_id}: {self.weekly_minutes:.0f} min/week"


class CsmTaskLoad(models.Model):
    """Minutes of open tasks per assignee and due day, kept by the database itself, so the team
    capacity panel never sums the task table.

    Statement-level triggers on the task table (migration 0024) append, for every statement that
    inserts, updates or deletes tasks, the minutes each (assignee, due day) of open tasks gained or
    lost. Whoever writes tasks (a playbook run, a completion, a bulk cancel, a reassignment, a
    user's deletion setting assignees to NULL) keeps the sums exact, and concurrent writers only
    append rows, so they never wait on each other here. ``csm_task_load_compact`` folds the rows
    into one per assignee and day, and the days up to a week ahead of its day into one row dated a
    week ahead: the panel (open tasks due within 7 days, overdue included) then reads about one row
    per CSM. A folded row is dated on or before every later reader's horizon, so it still counts
    where each of its tasks would."""

    # No foreign key: rows of a deleted user only ever sum to nothing, and a constraint would
    # make the triggers' appends wait on the user table.
    assignee_id = models.BigIntegerField()
    due_on = models.DateField()
    minutes = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.assignee_id} {self.due_on}: {self.minutes:+d}"
