"""Count the coverage rows written before the summary existed (a separate migration: the summary's
unique index, which the counting's upserts need, is created at the end of the one before)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def count_existing_coverage(apps, schema_editor):
    # Rows written before this migration are counted under their account's tier and CSM of now,
    # and the summary starts as the sum of them: every later rewrite subtracts what a row added.
    Account = apps.get_model("accounts", "Account")
    EntitlementCoverage = apps.get_model("engagement", "EntitlementCoverage")
    account = Account.objects.filter(pk=OuterRef("account_id"))
    EntitlementCoverage.objects.update(
        counted_tier_code=Subquery(account.values("tier_code")[:1]),
        counted_csm_id=Subquery(account.values("csm_id")[:1]),
    )
    if not EntitlementCoverage.objects.exists():
        return  # nothing to count: the first rewrite starts the summary
    from django.utils import timezone

    from engagement.coverage.queries import coverage_summary_rebuild

    coverage_summary_rebuild(base_on=timezone.localdate())



class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0018_coverage_summary"),
    ]

    operations = [migrations.RunPython(count_existing_coverage, migrations.RunPython.noop)]
