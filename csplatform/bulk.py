"""Batches: inserting rows that another worker may be inserting at the same time, and deciding
many rows the way a single decision would, one result per row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core.exceptions import ValidationError
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


# A bulk decision never holds more rows than an inbox section shows.
MAX_BULK_ROWS = 200


@dataclass(frozen=True)
class RowResult(Generic[M]):
    """What a bulk decision did to one ticked row: ``decided`` (the row as saved) or ``error``."""

    pk: int
    decided: M | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def decide_each(rows: Iterable[M], ids: Sequence[int], decide: Callable[[M], M]) -> list[RowResult[M]]:
    """Apply ``decide`` (the single decision's service function) to each row of ``ids``, each in
    its own transaction: a row the service refuses (decided meanwhile, expired...) is rolled back
    alone and reported with the service's words; the others go through. A ticked id with no row
    (deleted meanwhile) is reported too. One result per id, in id order."""
    found = {row.pk: row for row in rows}
    results: list[RowResult[M]] = []
    for pk in sorted(set(ids)):
        row = found.get(pk)
        if row is None:
            results.append(RowResult(pk, error="It no longer exists."))
            continue
        try:
            with transaction.atomic():
                decided = decide(row)
        except ValidationError as exc:
            results.append(RowResult(pk, error=" ".join(exc.messages)))
        else:
            results.append(RowResult(pk, decided=decided))
    return results
