"""The migrated database holds every constraint and index the models declare.

A migration can drop more than it says: altering a foreign key's ``db_index`` drops every index on
its column that is not in ``Meta.indexes``, a conditional unique constraint's index included, and
the model state never learns of it. These tests read the database itself.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from segmentation.models import TierChange
from tests.factories import AccountFactory
from tests.segmentation.factories import TierChangeFactory


def _names_in_database() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "UNION SELECT conname FROM pg_constraint"
        )
        return {name for (name,) in cursor.fetchall()}


def test_every_declared_constraint_and_index_exists_in_the_database(db):
    present = _names_in_database()
    declared = {
        (model._meta.label, item.name)
        for model in apps.get_models()
        for item in [*model._meta.constraints, *model._meta.indexes]
    }
    assert len(declared) > 50  # the models do declare them: the check below is not vacuous
    assert sorted(d for d in declared if d[1] not in present) == []


def test_an_account_holds_one_open_proposal_at_most(db):
    account, other = AccountFactory(), AccountFactory()
    first = TierChangeFactory(account=account)
    with pytest.raises(IntegrityError), transaction.atomic():
        TierChangeFactory(account=account)
    # Decided or superseded proposals are history: a new one may open, and other accounts are free.
    TierChange.objects.filter(pk=first.pk).update(status="superseded")
    TierChangeFactory(account=account)
    TierChangeFactory(account=other)
    assert TierChange.objects.filter(status="proposed").count() == 2
