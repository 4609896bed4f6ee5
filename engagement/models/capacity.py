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
