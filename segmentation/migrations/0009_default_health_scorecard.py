"""The default health scorecard, active on a fresh database (editable as a new version afterwards)."""

from decimal import Decimal

from django.db import migrations

DEFAULT_COMPONENTS = [
    # signal, weight, direction, steps (from, points)
    ("active_users_trend_90d", "0.25", "higher_is_better", [(-100, 10), (-30, 30), (-10, 55), (0, 75), (15, 95)]),
    ("seat_utilisation", "0.20", "higher_is_better", [(0, 10), (0.3, 35), (0.5, 60), (0.7, 80), (0.9, 100)]),
    ("support_tickets_30d", "0.15", "lower_is_better", [(0, 100), (3, 75), (6, 45), (10, 20)]),
    ("coverage_kept", "0.15", "higher_is_better", [(0, 10), (0.5, 40), (0.8, 75), (1, 100)]),
    ("open_flags", "0.10", "lower_is_better", [(0, 100), (1, 60), (2, 30), (3, 10)]),
    ("days_since_last_touch", "0.15", "lower_is_better", [(0, 100), (30, 80), (60, 50), (120, 20)]),
]


def create_default_scorecard(apps, schema_editor):
    HealthScorecard = apps.get_model("segmentation", "HealthScorecard")
    HealthComponent = apps.get_model("segmentation", "HealthComponent")
    if HealthScorecard.objects.exists():
        return
    scorecard = HealthScorecard.objects.create(
        version=1,
        name="Default health",
        status="active",
        watch_from=40,
        healthy_from=70,
        notes="Usage trend, seat utilisation, tickets, coverage kept, open flags and recency of touch.",
    )
    for position, (signal, weight, direction, steps) in enumerate(DEFAULT_COMPONENTS):
        HealthComponent.objects.create(
            scorecard=scorecard,
            signal=signal,
            weight=Decimal(weight),
            direction=direction,
            points=[{"from": value, "points": points} for value, points in steps],
            missing_points=50,
            position=position,
        )


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0008_renewals_and_health")]

    operations = [migrations.RunPython(create_default_scorecard, migrations.RunPython.noop)]
