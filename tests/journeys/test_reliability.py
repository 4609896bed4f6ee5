"""A real Celery worker sends a journey to 2,000 contacts while being killed with SIGKILL.

The worker is a separate process on the real broker (``CELERY_BROKER_URL``: Redis in CI, a
``filesystem://`` folder otherwise) and shares the database with this test: on PostgreSQL the
test database itself (committed data, ``transaction=True``), on SQLite a file copied from the
in-memory test database, since another process cannot open an in-memory database.

What it proves: every contact gets each due step at most once (counted in the file email
backend's output by Message-ID), and no row is lost — every row is either sent (and its email is
in the files exactly once) or was left in ``sending`` by a killed worker and is on the review
list, where a person decides. sent + stuck-for-review == due.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Account, Contact
from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import STUCK_AFTER
from engagement.journeys.services import enrolment_start_for_account
from playbooks.models import Journey, JourneyStep

CONTACTS = 2000
CONTACTS_PER_ACCOUNT = 10
STEPS = 2
KILLS = 3
DISPATCH_TASK = "engagement.journeys_dispatch"
MESSAGE_ID = re.compile(rb"^Message-ID: <[^>]*\.journey(\d+)@", re.MULTILINE)


def _seed() -> int:
    """2,000 mailable contacts enrolled in a two-step journey whose steps are both due now.

    Only the outbox rows are created here; sending is left to the worker.
    """
    journey = Journey.objects.create(
        code="reliability",
        name="Reliability",
        send_on_weekends=True,
        send_window_start=dt.time(0, 0),
        send_window_end=dt.time(23, 59, 59),
    )
    for position in range(1, STEPS + 1):
        JourneyStep.objects.create(
            journey=journey,
            position=position,
            name=f"Step {position}",
            delay_from="enrolment",
            subject_template=f"Step {position} for {{{{ contact.first_name }}}}",
            body_text_template="Hi {{ contact.name }},\n\nunsubscribe: {{ links.unsubscribe }}\n",
        )
    accounts = Account.objects.bulk_create(
        Account(crm_source="reliability", external_id=str(n), name=f"Reliability {n}", region="EMEA")
        for n in range(CONTACTS // CONTACTS_PER_ACCOUNT)
    )
    Contact.objects.bulk_create(
        Contact(account=account, email=f"person{a}.{c}@reliability.example", name=f"Person {a}.{c}")
        for a, account in enumerate(accounts)
        for c in range(CONTACTS_PER_ACCOUNT)
    )
    for account in accounts:
        enrolment_start_for_account(journey_code="reliability", account_id=account.pk, source="test")
    counts = journey_due_steps_schedule(now=timezone.now())
    return counts["queued"]


class SharedDatabase:
    """The database as the worker sees it (this test's database, by URL), and raw reads of it."""

    def __init__(self, tmp_path: Path) -> None:
        connection.ensure_connection()
        info = connection.connection.info
        host = info.host
        # A Unix socket (the embedded server) is a directory; psycopg takes it as the host.
        location = (
            f"/{info.dbname}?host={host}&port={info.port}"
            if host.startswith("/")
            else (f"{host}:{info.port}/{info.dbname}")
        )
        self.url = (
            f"postgres://{info.user}@{location}"
            if host.startswith("/")
            else (f"postgres://{info.user}{':' + info.password if info.password else ''}@{location}")
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def statuses(self) -> Counter:
        return Counter(
            dict(self.rows("SELECT status, COUNT(*) FROM engagement_outboundemail GROUP BY status"))
        )


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None
        # Every process started, so that ``stop`` leaves none behind: a worker still running after
        # the test would go on consuming the test broker and spoil the next run.
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "csplatform",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(self.process)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # the main process and its pool children
        self.process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _broker(tmp_path: Path) -> tuple[str, dict[str, Any]]:
    url = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    if not url.startswith("filesystem://"):
        return url, {}
    queue = tmp_path / "var" / "broker" / "queue"
    (tmp_path / "var" / "broker" / "processed").mkdir(parents=True, exist_ok=True)
    (tmp_path / "var" / "broker" / "control").mkdir(parents=True, exist_ok=True)
    queue.mkdir(parents=True, exist_ok=True)
    return url, {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(tmp_path / "var" / "broker" / "processed"),
        "control_folder": str(tmp_path / "var" / "broker" / "control"),
        "store_processed": False,
    }


def _wait_until(predicate: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _mail_ids(mail_dir: Path) -> Counter:
    ids: Counter = Counter()
    for path in mail_dir.glob("*"):
        ids.update(int(found) for found in MESSAGE_ID.findall(path.read_bytes()))
    return ids


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_contact_gets_each_due_step_at_most_once_and_no_row_is_lost_when_workers_are_killed(
    tmp_path, monkeypatch
):
    # Tests run tasks eagerly in-process; the scheduler's own "start a sender" must not send here.
    monkeypatch.setattr("engagement.journeys.schedule.enqueue", lambda *args, **kwargs: None)
    due = _seed()
    assert due == CONTACTS * STEPS
    database = SharedDatabase(tmp_path)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    broker_url, transport_options = _broker(tmp_path)
    producer = Celery("reliability-producer", broker=broker_url, set_as_current=False)
    producer.conf.broker_transport_options = transport_options
    producer.conf.task_always_eager = False
    if not broker_url.startswith("filesystem://"):
        producer.control.purge()  # leftovers of an earlier run must not drive this one
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "CELERY_BROKER_URL": broker_url,
        "VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "csplatform.settings",
        # Claims of 100: each kill strands up to a claim per sender, and three kills must leave
        # rows pending among 4,000 (at the default of 250, two kills stranded 1,000 and the
        # senders drained the rest before the third).
        "JOURNEY_SEND_BATCH_SIZE": "100",
    }
    worker = Worker(env, tmp_path / "worker.log")

    def kick() -> None:
        # What the beat tick does every minute: make sure senders run.
        for _ in range(2):
            producer.send_task(DISPATCH_TASK, kwargs={})

    kills = 0
    try:
        for round_number in range(1, KILLS + 1):
            worker.start()
            kick()
            target = min(due - 1, round_number * due // (KILLS + 2))
            _wait_until(lambda t=target: database.statuses()["sent"] >= t, timeout=40, what=f"{target} sent")
            if database.statuses()["pending"] == 0:
                break
            worker.kill()
            kills += 1
        worker.start()
        kick()
        _wait_until(lambda: database.statuses()["pending"] == 0, timeout=40, what="the outbox to drain")
        time.sleep(0.5)  # the graceful stop below lets the live worker finish its batch
    finally:
        worker.stop()

    statuses = database.statuses()
    stuck_ids = {
        row[0] for row in database.rows("SELECT id FROM engagement_outboundemail WHERE status = 'sending'")
    }
    sent_ids = {
        row[0] for row in database.rows("SELECT id FROM engagement_outboundemail WHERE status = 'sent'")
    }
    delivered = _mail_ids(mail_dir)

    assert kills == KILLS, (kills, statuses)
    # One row per (enrolment, step): every contact has each due step exactly once in the outbox.
    rows = database.rows("SELECT COUNT(*) FROM engagement_outboundemail")[0][0]
    pairs = database.rows(
        "SELECT COUNT(*) FROM (SELECT DISTINCT enrolment_id, step_id FROM engagement_outboundemail) AS p"
    )[0][0]
    assert rows == pairs == due
    # No row lost: each is sent, or stuck in sending (a killed worker's claim) awaiting review.
    assert set(statuses) <= {"sent", "sending"}, statuses
    assert len(sent_ids) + len(stuck_ids) == due
    # No email twice; every row recorded as sent is in the mail files exactly once.
    assert max(delivered.values()) == 1
    assert sent_ids <= set(delivered)
    assert set(delivered) <= sent_ids | stuck_ids
    # The stuck rows are exactly the review list once they are old enough; nothing resends them.
    later = timezone.now() + STUCK_AFTER + dt.timedelta(seconds=1)
    stamp = later.strftime("%Y-%m-%d %H:%M:%S")
    review = database.rows(
        f"SELECT COUNT(*) FROM engagement_outboundemail WHERE status = 'sending' AND claimed_at < '{stamp}'"
    )[0][0]
    assert review == len(stuck_ids)
