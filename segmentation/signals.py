"""Signals segmentation declares; higher apps (playbooks, engagement) connect in ready().

All are sent after the transaction commits (``transaction.on_commit``), with ids and codes, not
objects.
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

# A tier override became effective (approved, or needing no approval).
# kwargs: account_id: int, override_id: int, tier_code: str
override_applied = Signal()

# The active policy changed. kwargs: policy_id: int
policy_activated = Signal()
