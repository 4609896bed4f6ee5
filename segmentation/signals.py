"""Signals segmentation declares; higher apps (playbooks, engagement) connect in ready().

All are sent inside the transaction that applied the change (not on commit), with ids and codes,
not objects. Receivers must only add rows to the task outbox (``csplatform.dispatch.enqueue``):
cheap, set-based, ids only, no other work. The follow-up (playbooks, journey exits, coverage)
then commits with the tier change or not at all, and a process that dies between commit and
publish leaves it to the outbox sweeper instead of losing it. The work runs in Celery tasks that
take ids and are safe to run twice.
"""

from django.dispatch import Signal

# One account's effective tier changed (an applied TierChange from an event, an override, an
# accepted proposal or an expired override).
# kwargs: account_id: int, from_code: str ("" when none), to_code: str,
#         source: "review" | "event" | "override" | "initial", change_id: int
tier_changed = Signal()

# Many accounts' effective tiers changed at once: sent once per committed chunk of a tier review
# (source "review") and of the initial tiering after demo data is seeded (source "initial"),
# instead of one tier_changed per account. Receivers should stay set-based.
# kwargs: account_ids: list[int], change_ids: list[int] (same order), source: str,
#         review_id: int | None
tier_changes_applied = Signal()

# A tier review finished: every chunk committed, its summaries written. Sent once, inside the
# transaction that closes the review. For follow-ups that are cheaper once per review than once per
# committed batch (a summary over whole portfolios, say).
# kwargs: review_id: int
review_finished = Signal()

# A tier review failed: a worker stopped it with an error, or it was given up after its workers
# stopped reporting too often. The batches it committed stand, so a follow-up kept for
# ``review_finished`` (the summary over whole portfolios) must run now instead of waiting for the
# next review. Sent once, when the review is marked failed.
# kwargs: review_id: int
review_failed = Signal()

# A tier override became effective (approved, or needing no approval).
# kwargs: account_id: int, override_id: int, tier_code: str
override_applied = Signal()

# A tier override was requested (it may need approval, or be active at once).
# kwargs: account_id: int, override_id: int
override_requested = Signal()

# CS Leadership approved or declined a pending override.
# kwargs: account_id: int, override_id: int, decision: "approved" | "declined"
override_decided = Signal()

# The active policy changed. kwargs: policy_id: int
policy_activated = Signal()

# Accounts' health bands changed in a health computation (once per batch; only accounts whose band
# differs from their previous one, "" before the first computation).
# kwargs: account_ids: list[int], from_bands: list[str], to_bands: list[str] (same order)
health_band_changed = Signal()
