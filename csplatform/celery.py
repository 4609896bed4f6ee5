"""Celery application: `celery -A csplatform worker` / `celery -A csplatform beat`.

Celery tasks live in modules named ``jobs.py`` (``tasks`` is a CS to-do in this product): one per
app (``playbooks/jobs.py``, ``csplatform/jobs.py``) or one per capability package of an app
(``engagement/coverage/jobs.py``). Every task is registered under an explicit, stable name
(``engagement.coverage_recompute_accounts``): beat schedules and the task outbox store names, so a
module may move without them changing.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")


def job_packages() -> list[str]:
    """Each installed app, and each of its packages that has a ``jobs.py``."""
    from django.apps import apps

    packages = []
    for config in apps.get_app_configs():
        packages.append(config.name)
        packages.extend(
            f"{config.name}.{jobs.parent.name}" for jobs in sorted(Path(config.path).glob("*/jobs.py"))
        )
    return packages


app = Celery("csplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(job_packages, related_name="jobs")
