"""The override feedback report reads day sums grouped by override reason and policy tier: add
that answer to the segments kept before it existed and rebuild the day sums."""

from django.db import migrations


def add_override_reason_tier(apps, schema_editor):
    from engagement.retention.queries.kept import renewal_segments_add_override_reason_tier_sql

    renewal_segments_add_override_reason_tier_sql()


class Migration(migrations.Migration):
    dependencies = [("engagement", "0020_coverage_hot_updates")]

    operations = [migrations.RunPython(add_override_reason_tier, migrations.RunPython.noop)]
