from django.db import migrations

# The planned and on-time deliveries of the coverage summary move to each tier's and CSM's NULL
# bucket, which every tier and CSM with a row then has (``engagement.coverage.queries``): the
# panel folds only the buckets overdue on its day. Sums over all of a key's rows are unchanged,
# so the reverse needs nothing.
FORWARD = """
INSERT INTO engagement_coveragesummary AS s
    (dimension, key, due_on, entitlements, accounts, planned, delivered_on_time)
SELECT dimension, key, NULL, 0, 0,
       COALESCE(SUM(planned) FILTER (WHERE due_on IS NOT NULL), 0),
       COALESCE(SUM(delivered_on_time) FILTER (WHERE due_on IS NOT NULL), 0)
FROM engagement_coveragesummary
GROUP BY dimension, key
ON CONFLICT (dimension, key, due_on) DO UPDATE
    SET planned = s.planned + EXCLUDED.planned, delivered_on_time = s.delivered_on_time + EXCLUDED.delivered_on_time;
UPDATE engagement_coveragesummary SET planned = 0, delivered_on_time = 0
WHERE due_on IS NOT NULL AND (planned <> 0 OR delivered_on_time <> 0);
DELETE FROM engagement_coveragesummary
WHERE due_on IS NOT NULL AND entitlements = 0 AND accounts = 0 AND planned = 0 AND delivered_on_time = 0;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0022_notification_account_index"),
    ]
    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
