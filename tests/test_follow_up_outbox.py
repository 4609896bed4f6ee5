"""Follow-up across apps is queued in the change's own transaction, so no crash can lose it.

An account's ACV change tells segmentation inside the transaction (``accounts_changed``), whose
receiver adds a re-evaluation to the task outbox; the re-evaluation's tier change tells
engagement the same way, which starts the new tier's playbook. Here the process that made the
change dies right after the commit, before it could publish anything: the outbox row is
committed, and the sweeper publishes it, so the tier still changes and the playbook still starts.
A change that is rolled back leaves neither an outbox row nor any follow-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts.services.accounts import account_update
from csplatform.dispatch import sweep
from csplatform.models import PendingDispatch
from engagement.models import PlaybookRun, Task
from segmentation import jobs as segmentation_jobs
from segmentation.models import TierChange
from tests.engagement.factories import tiered_account

# A worker imports every app's tasks at start; this process had no reason to import these yet.
assert segmentation_jobs.reevaluate_accounts.name == "segmentation.reevaluate_accounts"

# Runs in a fresh interpreter against the test database: raise the account's ACV past the
# Enterprise threshold and die (exit status 9, no clean-up) right after the commit, before any
# other on-commit callback runs: nothing that used to happen "on commit" (sending a signal,
# publishing a task) gets its turn.
CHANGE_THEN_DIE = """
import os, sys
from decimal import Decimal

import django

django.setup()

from django.db import transaction

from accounts.models import Account
from accounts.services.accounts import account_update

account = Account.objects.get(pk=int(sys.argv[1]))
with transaction.atomic():
    transaction.on_commit(lambda: os._exit(9))  # registered first, so it runs first
    account_update(account=account, actor=None, source="crash test", data={"acv": Decimal("90000")})
print("survived the commit")
"""


def database_url() -> str:
    """This test database as a URL another process can use (a socket directory works as host)."""
    connection.ensure_connection()
    info = connection.connection.info
    user = quote(info.user or "")
    password = f":{quote(info.password)}" if info.password else ""
    if info.host.startswith("/"):
        return f"postgres://{user}{password}@/{info.dbname}?host={quote(info.host)}&port={info.port}"
    return f"postgres://{user}{password}@{info.host}:{info.port}/{info.dbname}"


def change_acv_in_a_process_that_dies_after_commit(
    account_id: int, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="csplatform.settings",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL="memory://",
        VAR_DIR=str(tmp_path / "var"),
        LOG_LEVEL="WARNING",
    )
    return subprocess.run(
        [sys.executable, "-c", CHANGE_THEN_DIE, str(account_id)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_follow_up_survives_a_process_killed_between_commit_and_publish(migration_data, alice, tmp_path):
    account = tiered_account("MM1", csm=alice, acv=Decimal("62000"))

    result = change_acv_in_a_process_that_dies_after_commit(account.pk, tmp_path)

    assert result.returncode == 9, result.stderr
    assert "survived" not in result.stdout
    account.refresh_from_db()
    assert (account.acv, account.tier_code) == (Decimal("90000.00"), "MM1")  # committed, not followed up
    # Both follow-ups of an ACV change were committed with it: the tier re-evaluation and health.
    queued = {row.task_name: row.kwargs for row in PendingDispatch.objects.all()}
    assert queued == {
        "segmentation.reevaluate_accounts": {"account_ids": [account.pk]},
        "segmentation.compute_health_accounts": {"account_ids": [account.pk]},
    }

    assert sweep(grace=timedelta(0)) == 2  # eager Celery: the tasks run here

    account.refresh_from_db()
    assert (account.tier_code, account.tier_source) == ("ENT", "policy")
    change = TierChange.objects.get(account=account)
    assert (change.from_code, change.to_code) == ("MM1", "ENT")
    assert (change.source, change.status) == ("event", "applied")
    # The tier change's own follow-up was queued in the re-evaluation's transaction and ran.
    assert PlaybookRun.objects.filter(account=account, playbook__code="enterprise-kickoff").exists()
    assert Task.objects.filter(account=account, title="Executive alignment call").exists()
    assert not PendingDispatch.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_change_leaves_no_outbox_row_and_no_follow_up(migration_data, alice):
    account = tiered_account("MM1", csm=alice, acv=Decimal("62000"))

    with pytest.raises(RuntimeError), transaction.atomic():
        account_update(account=account, actor=None, source="test", data={"acv": Decimal("90000")})
        assert PendingDispatch.objects.filter(task_name="segmentation.reevaluate_accounts").exists()
        raise RuntimeError("the rest of the request failed")

    assert not PendingDispatch.objects.exists()
    assert sweep(grace=timedelta(0)) == 0
    account.refresh_from_db()
    assert (account.acv, account.tier_code) == (Decimal("62000.00"), "MM1")
    assert not TierChange.objects.filter(account=account).exists()
    assert not PlaybookRun.objects.filter(account=account).exists()


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


@pytest.fixture
def broker_sends(monkeypatch):
    """Publishing as in production (not eager), with what reaches the broker recorded."""
    from csplatform.celery import app as celery_app

    sent: list[tuple[str, dict]] = []
    # The autouse fixture turns eager mode on for each test and off again after it.
    celery_app.conf.task_always_eager = False
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, kwargs=None, **options: sent.append((name, kwargs))
    )
    return sent


@pytest.mark.django_db(transaction=True)
def test_published_rows_are_removed_by_a_commit_that_does_not_wait_for_the_disk(broker_sends, monkeypatch):
    from csplatform import dispatch

    settings_seen: list[str] = []
    real = dispatch.commit_without_flush_wait

    def spy() -> None:
        real()
        settings_seen.append(_synchronous_commit())

    monkeypatch.setattr(dispatch, "commit_without_flush_wait", spy)
    with transaction.atomic():
        dispatch.enqueue("segmentation.reevaluate_accounts", account_ids=[1, 2])
        dispatch.enqueue("segmentation.compute_health_accounts", account_ids=[1, 2])
        # The change's own commit waits for the disk as always.
        assert _synchronous_commit() == "on"

    assert broker_sends == [
        ("segmentation.reevaluate_accounts", {"account_ids": [1, 2]}),
        ("segmentation.compute_health_accounts", {"account_ids": [1, 2]}),
    ]
    assert not PendingDispatch.objects.exists()
    # One removal, in its own transaction, which alone did without the flush.
    assert settings_seen == ["off"]
    assert _synchronous_commit() == "on"


@pytest.mark.django_db
def test_a_publish_inside_a_callers_transaction_leaves_its_commit_durable(broker_sends):
    from csplatform.dispatch import publish_many

    rows = [PendingDispatch.objects.create(task_name="engagement.flags_detect", kwargs={"account_ids": [3]})]
    assert publish_many([row.pk for row in rows]) is True

    assert broker_sends == [("engagement.flags_detect", {"account_ids": [3]})]
    assert not PendingDispatch.objects.exists()
    assert _synchronous_commit() == "on"
