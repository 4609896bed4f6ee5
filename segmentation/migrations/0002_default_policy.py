from decimal import Decimal

from django.db import migrations

DEFAULT_TIERS = [
    ("ENT", "Enterprise", 1, "high", Decimal("70000")),
    ("MM1", "Mid-Market Tier 1", 2, "hybrid", Decimal("50000")),
    ("MM2", "Mid-Market Tier 2", 3, "hybrid", Decimal("15000")),
    ("MM3", "Mid-Market Tier 3", 4, "digital", Decimal("0")),
]


def create_default_policy(apps, schema_editor):
    TierPolicy = apps.get_model("segmentation", "TierPolicy")
    Tier = apps.get_model("segmentation", "Tier")
    if TierPolicy.objects.exists():
        return
    policy = TierPolicy.objects.create(
        version=1,
        name="Default policy (ACV thresholds 70K / 50K / 15K)",
        status="active",
        rules=[],
        hysteresis_band=Decimal("0.100"),
        downgrade_after_consecutive_reviews=2,
        apply_mode="auto",
    )
    for code, name, rank, touch, min_acv in DEFAULT_TIERS:
        Tier.objects.create(policy=policy, code=code, name=name, rank=rank, touch_model=touch, min_acv=min_acv)


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0001_initial")]
    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
