"""Journey emails through the outbox against Django's own ``send_messages`` on the same backend.

50,000 enrolments whose step is due are turned into outbox rows (decided, rendered, stored:
``journey_schedule``), then the due rows are dispatched by the outbox sender (claim
``pending → sending``, build the message with its unsubscribe headers, send, record ``sent``
with the message id) to the locmem email backend (``journey_dispatch``). The baseline hands
the very same messages, already built, to the same backend's ``send_messages`` in one call: the
cost of the backend alone (the faster of two sends). The ratio says what share of the backend's
speed survives the outbox's bookkeeping (higher is better). Both timings start with a collected
and frozen heap (``gc.freeze``), so neither pays for rescanning what was allocated before it.

The database already holds a year of sent email to the same contacts, ten times the batch
(500,000 rows: ten steps of a history journey, one every five weeks, the last one two weeks ago,
so no contact is held by the weekly cap), as a production outbox does; the history is created
once and kept. Before the timing the nightly archive job runs as it would have every night (not
timed): the settled emails older than its window (30 days) leave the outbox for the archive, the
last month's stay, and the outbox is vacuumed as autovacuum would have. The bench's own journey,
enrolments and emails are deleted afterwards (and the tables vacuumed, so the next run starts
where production would be).
``BENCH_JOURNEY_EMAILS`` makes the run shorter while developing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import time
from collections.abc import Iterator

from bench.common import Context, Result

ORDER = 60
GOAL = 0.5
# The floor is the faster of this many sends of the same messages.
BASELINE_RUNS = 2
SOURCE = "bench-journeys"
HISTORY = "bench-journeys-history"
HISTORY_STEPS = 10
CONTACTS_PER_ACCOUNT = 10

_HISTORY_ROWS = """
    INSERT INTO engagement_outboundemail
        (status, to_email, to_name, subject, body_text, body_html, module_code, detail, attempts,
         created_at, claimed_at, sent_at, message_id, account_id, contact_id, enrolment_id, journey_id,
         step_id)
    SELECT 'sent', c.email, c.name, 'Your monthly product digest, ' || c.name,
           'Hi ' || c.name || E',\n\nhere is what changed in the product this month: faster '
           || E'dashboards, a new export, and three fixes you asked for.\n\nRead more in the '
           || E'help centre.\n\nThe team\n\nUnsubscribe: https://example.com/u/' || c.id,
           '<p>Hi ' || c.name || ',</p><p>here is what changed in the product this month: faster '
           || 'dashboards, a new export, and three fixes you asked for.</p><p>Read more in the '
           || '<a href="https://example.com/help">help centre</a>.</p><p>The team</p>',
           '', '', 1, t.at, t.at, t.at, '<journey' || c.id || '.' || s.position || '@bench.example>',
           e.account_id, e.contact_id, e.id, e.journey_id, s.id
    FROM engagement_journeyenrolment e
    JOIN accounts_contact c ON c.id = e.contact_id
    JOIN playbooks_journeystep s ON s.journey_id = e.journey_id
    CROSS JOIN LATERAL (
        SELECT now() - make_interval(days => 14 + 35 * (%(steps)s - s.position)) AS at
    ) t
    WHERE e.journey_id = %(journey_id)s
"""


def _forget(code: str) -> None:
    from engagement.models import JourneyEnrolment, OutboundEmail, OutboundEmailArchive
    from playbooks.models import Journey

    journeys = Journey.objects.filter(code=code)
    OutboundEmail.objects.filter(journey__in=journeys).delete()
    OutboundEmailArchive.objects.filter(journey__in=journeys).delete()
    JourneyEnrolment.objects.filter(journey__in=journeys).delete()
    journeys.delete()


def _cleanup() -> None:
    from django.db import connection

    _forget(SOURCE)
    with connection.cursor() as cursor:
        for name in (
            "engagement_outboundemail",
            "engagement_outboundqueueentry",
            "engagement_journeyenrolment",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {name}")


def _book(count: int) -> list[int]:
    """The bench's accounts and contacts (kept between runs); returns the contact ids."""
    from accounts.models import Account, Contact

    if Contact.objects.filter(account__crm_source=SOURCE).count() != count:
        _forget(HISTORY)
        Account.objects.filter(crm_source=SOURCE).delete()
        accounts = Account.objects.bulk_create(
            (
                Account(crm_source=SOURCE, external_id=str(n), name=f"Bench Customer {n}", region="EMEA")
                for n in range(count // CONTACTS_PER_ACCOUNT)
            ),
            batch_size=2000,
        )
        Contact.objects.bulk_create(
            (
                Contact(account=a, email=f"p{i}.{a.pk}@bench.example", name=f"Person {i}")
                for a in accounts
                for i in range(CONTACTS_PER_ACCOUNT)
            ),
            batch_size=5000,
        )
    return list(
        Contact.objects.filter(account__crm_source=SOURCE).order_by("id").values_list("id", flat=True)
    )


def _history(contact_ids: list[int], now: dt.datetime) -> int:
    """A year of sent email to the bench's contacts: ``HISTORY_STEPS`` per contact (created once)."""
    from django.db import connection, transaction

    from accounts.models import Contact
    from engagement.models import JourneyEnrolment, OutboundEmailRecord
    from playbooks.models import Journey, JourneyStep

    wanted = HISTORY_STEPS * len(contact_ids)
    existing = OutboundEmailRecord.objects.filter(journey__code=HISTORY).count()
    if existing == wanted:
        return existing
    with transaction.atomic():
        _forget(HISTORY)
        journey = Journey.objects.create(
            code=HISTORY, name="Bench history: monthly digest", send_on_weekends=True
        )
        JourneyStep.objects.bulk_create(
            JourneyStep(
                journey=journey,
                position=position,
                name=f"Digest {position}",
                delay_from="previous",
                delay_days=35,
                subject_template="Your monthly product digest",
                body_text_template="Hi {{ contact.first_name }}",
            )
            for position in range(1, HISTORY_STEPS + 1)
        )
        accounts = dict(Contact.objects.filter(id__in=contact_ids).values_list("id", "account_id"))
        JourneyEnrolment.objects.bulk_create(
            (
                JourneyEnrolment(
                    journey=journey,
                    contact_id=contact_id,
                    account_id=accounts[contact_id],
                    source="bench",
                    status="completed",
                    enrolled_at=now - dt.timedelta(days=400),
                    next_position=None,
                    next_due_at=None,
                )
                for contact_id in contact_ids
            ),
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            cursor.execute(_HISTORY_ROWS, {"journey_id": journey.pk, "steps": HISTORY_STEPS})
    with connection.cursor() as cursor:
        for name in ("engagement_outboundemail", "engagement_journeyenrolment"):
            cursor.execute(f"VACUUM (ANALYZE) {name}")
    return OutboundEmailRecord.objects.filter(journey__code=HISTORY).count()


def _archive_nightly() -> int:
    """The nightly archive job, as production runs it, then the vacuum autovacuum would do."""
    from django.db import connection

    from engagement.journeys.archive import outbound_archive_settled

    moved = outbound_archive_settled()["moved"]
    with connection.cursor() as cursor:
        for name in ("engagement_outboundemail", "engagement_outboundemailarchive"):
            cursor.execute(f"VACUUM (ANALYZE) {name}")
    return moved


def _prepare(contact_ids: list[int], now: dt.datetime) -> None:
    """The contacts with their only step due now, in a window that is always open."""
    from accounts.models import Contact
    from engagement.models import JourneyEnrolment
    from playbooks.models import Journey, JourneyStep

    journey = Journey.objects.create(
        code=SOURCE,
        name="Bench journey",
        send_on_weekends=True,
        send_window_start=dt.time(0, 0),
        send_window_end=dt.time(23, 59, 59),
    )
    step = JourneyStep.objects.create(
        journey=journey,
        position=1,
        name="Welcome",
        delay_from="enrolment",
        subject_template="Welcome to {{ account.name }}, {{ contact.first_name }}",
        body_text_template=(
            'Hi {{ contact.first_name|default:"there" }},\n\nwelcome on board! Three things for your first '
            "30 minutes:\n\n  1. Connect your data source\n  2. Create a workspace\n"
            "  3. Invite a colleague\n\n"
            'Guide: {{ links.help_center }}\n\n{{ csm.first_name|default:"The team" }}\n\n'
            "Unsubscribe: {{ links.unsubscribe }}\n"
        ),
    )
    accounts = dict(Contact.objects.filter(id__in=contact_ids).values_list("id", "account_id"))
    JourneyEnrolment.objects.bulk_create(
        (
            JourneyEnrolment(
                journey=journey,
                contact_id=contact_id,
                account_id=accounts[contact_id],
                source="bench",
                enrolled_at=now,
                next_position=step.position,
                next_due_at=now,
            )
            for contact_id in contact_ids
        ),
        batch_size=5000,
    )


@contextlib.contextmanager
def _settled_heap() -> Iterator[None]:
    """Time a section without the collector rescanning what was there before it: the baseline
    starts with 50,000 built messages in memory that the sender never holds, and each full
    collection inside the timing walked them (the baseline's rate moved by a quarter between
    runs). What the section itself allocates is collected as usual."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run(ctx: Context) -> list[Result]:
    from django.core import mail
    from django.core.mail import get_connection
    from django.test.utils import override_settings
    from django.utils import timezone

    from engagement.journeys import schedule as journey_services
    from engagement.journeys.sending import outbound_dispatch, outbound_message
    from engagement.models import OutboundEmail, OutboundEmailArchive, OutboundStatus

    count = int(os.environ.get("BENCH_JOURNEY_EMAILS", "50000"))
    _cleanup()
    now = timezone.now()
    contact_ids = _book(count)
    history = _history(contact_ids, now)
    _archive_nightly()
    outbox_before = OutboundEmail.objects.count()
    archived_before = OutboundEmailArchive.objects.count()
    _prepare(contact_ids, now)
    enqueue = journey_services.enqueue
    journey_services.enqueue = lambda *args, **kwargs: None  # the bench runs the sender itself
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            started = time.perf_counter()
            scheduled = journey_services.journey_due_steps_schedule(now=now)
            schedule_seconds = time.perf_counter() - started
            with _settled_heap():
                started = time.perf_counter()
                sent = outbound_dispatch()
                outbox_seconds = time.perf_counter() - started
            delivered = len(mail.outbox)

            rows = list(OutboundEmail.objects.filter(journey__code=SOURCE).order_by("id"))
            connection = get_connection()
            messages = [outbound_message(row, connection=connection) for row in rows]
            baseline_seconds = float("inf")
            for _ in range(BASELINE_RUNS):
                mail.outbox = []
                with _settled_heap():
                    started = time.perf_counter()
                    connection.send_messages(messages)
                    baseline_seconds = min(baseline_seconds, time.perf_counter() - started)
            mail.outbox = []
    finally:
        journey_services.enqueue = enqueue
        _cleanup()

    # Earlier benches' accounts may have a few journey steps of their own due now: they are
    # scheduled and sent with the bench's, and counted in the rates; the bench's own are all sent.
    assert len(rows) == count and all(row.status == OutboundStatus.SENT for row in rows), (scheduled, sent)
    assert scheduled["queued"] >= count and sent["sent"] == delivered >= count, (scheduled, sent, delivered)
    rate = sent["sent"] / outbox_seconds
    baseline = len(messages) / baseline_seconds
    schedule_rate = scheduled["queued"] / schedule_seconds
    return [
        Result(
            "journey_dispatch",
            round(rate, 1),
            "emails/s",
            ratio=rate / baseline,
            goal=GOAL,
            higher_is_better=True,
            note=(
                f"{sent['sent']} due outbox rows ({count} of the bench's) claimed, sent and recorded "
                f"in {outbox_seconds:.1f} s, "
                f"{history:,} sent emails of a year already there ({outbox_before:,} in the outbox, "
                f"{archived_before:,} archived by the nightly job); "
                f"send_messages of the same messages on the same backend: {baseline:.0f}/s"
            ),
        ),
        Result(
            "journey_schedule",
            round(schedule_rate, 1),
            "steps/s",
            ratio=schedule_rate / baseline,
            higher_is_better=True,
            note=(
                f"{scheduled['queued']} due steps decided (window, cap, skip), rendered and queued "
                f"in {schedule_seconds:.1f} s; "
                "ratio to the same send_messages baseline"
            ),
        ),
    ]
