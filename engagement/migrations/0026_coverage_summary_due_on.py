from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("engagement", "0025_csm_portfolio_load"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="coveragesummary",
            index=models.Index(fields=["due_on"], name="coverage_summary_due_on"),
        ),
    ]
