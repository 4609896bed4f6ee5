"""Signals the engagement app declares for the rest of the product (webhooks, notifications, health).

Sent inside the transaction that made the change, with ids: receivers only add rows to the task
outbox (``csplatform.dispatch.enqueue``), so their follow-up commits with the change or not at all.
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

# ``survey.responded``: a contact answered a survey (or changed their answer).
# kwargs: response_id: int, account_id: int, contact_id: int, kind: "nps" | "csat", score: int,
#         replaced: bool (True when it replaced an earlier answer of the same contact)
survey_responded = Signal()
