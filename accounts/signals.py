"""Signals the accounts app declares; higher apps connect to them in their AppConfig.ready().

All are sent inside the transaction that made the change (not on commit), with ids, not objects.
Receivers must only add rows to the task outbox (``csplatform.dispatch.enqueue``): cheap,
set-based, ids only, no other work. The follow-up then commits with the change or not at all,
and a process that dies between commit and publish leaves it to the outbox sweeper, not lost.
The work itself runs in Celery tasks that take ids and are safe to run twice.
"""

from django.dispatch import Signal

# sender=Account, account_ids: list[int], fields: set[str] of changed fields among
# TRACKED_FIELDS ("acv", "csm", "ae", "lifecycle_stage", "renewal_date") plus "created".
accounts_changed = Signal()

# sender=UsageSnapshot, account_ids: list[int] whose usage snapshots were created or changed.
usage_received = Signal()

# sender=Contact, account_ids: list[int] whose contacts were created or changed
# (champion / executive flags matter to segmentation and flags).
contacts_changed = Signal()

# sender=Account, seed: int. Sent once, in its transaction, when `manage.py seed_demo` created demo data
# (not by accounts.seeding.ensure_accounts, which benches use to fill a database quickly). Higher
# apps connect to it to derive their own demo state from the seeded accounts: segmentation
# evaluates the initial tiers, engagement creates demo touchpoints and tasks. Receivers enqueue one
# task each (the seed may hold a million accounts); the tasks derive anything random from ``seed``.
demo_data_seeded = Signal()

# sender=RenewalOutcome, renewal_ids: list[int] of outcomes created or changed (a replay that
# changes nothing sends nothing), account_ids: list[int] of their accounts. Playbooks may start on
# it; an outcome may also have moved the account's lifecycle stage (sent as accounts_changed).
renewal_recorded = Signal()
