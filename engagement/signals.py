"""Signals the engagement app declares; higher apps (integrations) connect in their ready().

Like the lower apps' signals, they are sent inside the transaction that made the change, with
ids, not objects; receivers only add rows to an outbox.
"""

from django.dispatch import Signal

# An AE logged a handoff commitment (already checked against the tier).
# kwargs: account_id: int, commitment_id: int
commitment_logged = Signal()

# CS Leadership accepted or declined a commitment beyond the tier.
# kwargs: account_id: int, commitment_id: int, decision: "accepted" | "declined"
commitment_decided = Signal()

# Flags were raised (once per batch of new flags). kwargs: flag_ids: list[int]
flags_raised = Signal()
