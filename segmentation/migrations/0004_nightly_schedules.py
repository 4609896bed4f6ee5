from django.db import migrations


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    early_morning, _ = CrontabSchedule.objects.get_or_create(
        minute="15", hour="1", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name="Nightly tier review of all accounts",
        defaults={"task": "segmentation.nightly_review", "crontab": nightly},
    )
    PeriodicTask.objects.get_or_create(
        name="Expire tier overrides and fall back to the policy",
        defaults={"task": "segmentation.expire_overrides", "crontab": early_morning},
    )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(
        task__in=["segmentation.nightly_review", "segmentation.expire_overrides"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0003_reviews_changes_overrides"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedules, remove_schedules)]
