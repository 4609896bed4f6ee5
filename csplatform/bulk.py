"""Inserting a batch of rows that another worker may be inserting at the same time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import IntegrityError, models, transaction

M = TypeVar("M", bound=models.Model)


def rows_insert_new(rows: Sequence[M]) -> list[M]:
    """Insert ``rows`` in one statement; the ones a unique constraint refuses are skipped.

    When the batch collides with rows committed meanwhile (a concurrent detection run, another
    worker starting the same playbooks), it falls back to one insert per row and keeps those that
    were still missing. Returns the rows inserted, with their ids (``ignore_conflicts`` would not
    tell which rows were new, nor give them ids).
    """
    if not rows:
        return []
    model = type(rows[0])
    try:
        with transaction.atomic():
            return model._default_manager.bulk_create(rows)
    except IntegrityError:
        inserted: list[M] = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                continue
            inserted.append(row)
        return inserted
