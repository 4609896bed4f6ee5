"""Contacts added or changed by a person (the admin; the CRM sync has its own set-based path)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from ..models import Contact
from ..signals import contacts_changed

if TYPE_CHECKING:
    from csplatform.models import User


@transaction.atomic
def contact_save(*, contact: Contact, actor: User | None) -> Contact:
    """Save a contact made or edited by hand. Like a sync, it tells the other apps
    (``contacts_changed``): segmentation re-reads champions, journeys enrol a newcomer."""
    contact.full_clean()
    contact.save()
    contacts_changed.send(sender=Contact, account_ids=[contact.account_id])
    return contact
