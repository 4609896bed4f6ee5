"""Restore the unique index behind ``tierchange_one_open_proposal``.

Migration 0006 dropped the account column's plain index (``db_index=False``); Django's schema
editor finds the indexes to drop by column and left out only the model's ``Meta.indexes``, so it
dropped this constraint's partial unique index on the same column too. The model state never
changed, so nothing noticed: an account could hold two open proposals. Any such duplicates are
superseded (the newest stays open) before the index is built again.
"""

from django.db import migrations

SUPERSEDE_DUPLICATES = """
    UPDATE segmentation_tierchange c
    SET status = 'superseded', decided_at = now()
    WHERE c.status = 'proposed'
      AND EXISTS (
        SELECT 1 FROM segmentation_tierchange newer
        WHERE newer.account_id = c.account_id AND newer.status = 'proposed' AND newer.id > c.id
      )
"""
# Built without locking the change history against writes (a review may be running); IF NOT
# EXISTS because a database repaired by hand already has it.
CREATE_INDEX = """
    CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tierchange_one_open_proposal
    ON segmentation_tierchange (account_id) WHERE status = 'proposed'
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("segmentation", "0017_health_kept_explanation"),
    ]

    operations = [
        migrations.RunSQL(SUPERSEDE_DUPLICATES, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(CREATE_INDEX, reverse_sql=migrations.RunSQL.noop),
    ]
