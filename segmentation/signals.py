"""Signals segmentation declares; higher apps (playbooks, engagement) connect in ready().

Sent after commit, with ids and codes, not objects.
"""

from django.dispatch import Signal

# An account's effective tier changed (applied TierChange).
# kwargs: account_id: int, from_code: str ("" when none), to_code: str,
#         source: "review" | "event" | "override" | "initial", change_id: int
tier_changed = Signal()

# A tier override became effective (approved or needing no approval).
# kwargs: account_id: int, override_id: int, tier_code: str
override_applied = Signal()

# The active policy changed. kwargs: policy_id: int
policy_activated = Signal()
