"""Signals the engagement app declares for the rest of the product (webhooks, notifications, health).

Sent inside the transaction that made the change, with ids: receivers only add rows to the task
outbox (``csplatform.dispatch.enqueue``), so their follow-up commits with the change or not at all.
"""

from django.dispatch import Signal

# ``survey.responded``: a contact answered a survey (or changed their answer).
# kwargs: response_id: int, account_id: int, contact_id: int, kind: "nps" | "csat", score: int,
#         replaced: bool (True when it replaced an earlier answer of the same contact)
survey_responded = Signal()
