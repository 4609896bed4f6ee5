"""Signals the playbooks app declares; engagement connects to them in its ready().

Sent inside the transaction that saved the change, with ids: receivers only add rows to the task
outbox (``csplatform.dispatch.enqueue``).
"""

from django.dispatch import Signal

# A journey's timing changed for the contacts already in it: its send window or weekend rule, or a
# step's delay. kwargs: journey_id: int, fields: list[str] (the changed fields)
journey_timing_changed = Signal()
