"""Every write to accounts, contacts and usage snapshots, and the rules around them."""

from .accounts import account_create, account_update, reassigns_owner, user_refs_resolve
from .renewals import renewal_record, renewals_sync
from .sync import MAX_SYNC_RECORDS, SyncResult, accounts_sync, contacts_sync, metrics_sync

__all__ = [
    "MAX_SYNC_RECORDS",
    "SyncResult",
    "account_create",
    "account_update",
    "accounts_sync",
    "contacts_sync",
    "metrics_sync",
    "reassigns_owner",
    "renewal_record",
    "renewals_sync",
    "user_refs_resolve",
]
