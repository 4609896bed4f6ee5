from django.db import migrations

# Each nightly settle rewrites the outcomes of the renewal days that ended. With PostgreSQL's
# default threshold (20 % of the table dead) a table of 250,000 outcomes would be vacuumed about
# every 70 days, and until then the partial index of the outcomes awaiting segments
# (renewal_segments_not_kept) keeps an entry for every outcome settled since, which the retention
# report reads on each request. 1 % keeps that index to a few days of settled outcomes.
TABLE = "accounts_renewaloutcome"


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_bounds")]
    operations = [
        migrations.RunSQL(
            f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0.01, "
            "autovacuum_analyze_scale_factor = 0.02)",
            f"ALTER TABLE {TABLE} RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)",
        )
    ]
