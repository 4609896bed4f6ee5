from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("segmentation", "0018_restore_one_open_proposal"),
    ]

    operations = [
        RemoveIndexConcurrently(model_name="tierchange", name="tierchange_status"),
    ]
