"""Nightly flag detection and expiry, and the nightly coverage recompute, editable in admin."""

from django.db import migrations

SCHEDULES = [
    ("Detect and expire account flags", "engagement.flags_nightly", 2, 0),
    ("Recompute entitlement coverage", "engagement.coverage_nightly", 2, 30),
    ("Start renewal playbooks", "engagement.renewal_playbooks_nightly", 3, 0),
]


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, hour, minute in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=str(minute),
            hour=str(hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task__in=[task for _, task, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0001_engagement_core"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_schedules, remove_schedules)]
