from __future__ import annotations

from django.db import models


class AccountTierState(models.Model):
    """Segmentation's working memory about one account, beside the denormalised tier on Account.

    Holds what the policy says (which may differ from the effective tier under an override or a
    pending proposal), the hysteresis counter, and the structured explanation of the last
    evaluation.
    """

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="tier_state"
    )
    policy = models.ForeignKey(
        "segmentation.TierPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # written a million times per review, read per account only
    )
    policy_tier_code = models.CharField(max_length=10, blank=True, default="")
    policy_tier_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    # Consecutive reviews at which the policy indicated a downgrade that hysteresis held back.
    pending_downgrade_reviews = models.PositiveSmallIntegerField(default=0)
    # The review that last counted towards pending_downgrade_reviews (a re-run never counts twice).
    last_review_id = models.BigIntegerField(null=True, blank=True)
    steps = models.JSONField(default=list, blank=True)
    # Flags raised by rules at the last evaluation: [{"kind", "days", "rule"}]
    flags = models.JSONField(default=list, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # What the last evaluation was computed from and wrote: the policy's fingerprint (its content
    # and the engine's code), the ACV, and the account's tier_updated_at after the write (moved
    # by any later writer of the tier). A review under a policy without rules skips an account
    # whose three still match (queries.reviews.review_candidates): evaluating it again would
    # give the same outcome. Under rules, ``evaluated_signals`` must match too.
    evaluated_with = models.CharField(max_length=32, blank=True, default="")
    evaluated_acv = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    tier_written_at = models.DateTimeField(null=True, blank=True)
    # Under a policy with rules, what the evaluation's outcome read from the signals: one entry per
    # condition of each rule in order, the signal's value where the rule matched and the condition
    # held, null elsewhere (``segmentation.rule_inputs``). Same key, same ACV, same fingerprint:
    # the same tiers, flags and explanation, whatever else moved in the usage.
    evaluated_signals = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.policy_tier_code}"
