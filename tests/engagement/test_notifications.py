"""Notifications: the bell, marking read, preferences, and email digests (contents, once per
period, preferences honoured, each person's time zone)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from engagement.capacity.services import csm_portfolio_refresh
from engagement.flags.services import Signal, flags_raise
from engagement.handoffs.services import commitment_decline
from engagement.mail.services import outgoing_mail_dispatch
from engagement.models import MailStatus, Notification, OutgoingMail
from engagement.notifications.digests import digests_send
from engagement.notifications.services import notifications_write
from segmentation.models import TierChange
from tests.engagement.factories import CommitmentFactory, TaskFactory, tiered_account

pytestmark = pytest.mark.django_db

# Monday 30 November 2026, 07:30 in Berlin (CET, UTC+1).
MONDAY_0730_BERLIN = dt.datetime(2026, 11, 30, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def book(alice, tom):
    alice.time_zone = "Europe/Berlin"
    alice.save()
    return tiered_account("MM2", name="Northwind Retail", csm=alice, ae=tom)


def _raise_flag(account, capture, at=MONDAY_0730_BERLIN - dt.timedelta(hours=3)):
    with time_machine.travel(at, tick=False), capture(execute=True):
        flags_raise(signals=[Signal(account.pk, "usage_drop", "Active users fell by 40%.", {})])


def test_a_new_flag_reaches_the_csms_bell_and_reading_it_clears_the_count(
    client, alice, book, django_capture_on_commit_callbacks
):
    _raise_flag(book, django_capture_on_commit_callbacks)
    client.force_login(alice)

    page = client.get("/")
    assert b'data-testid="notification-bell"' in page.content
    bell = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert b'data-testid="unread-count">1<' in bell.content
    listed = client.get("/notifications/")
    assert "Usage drop on Northwind Retail" in listed.content.decode()

    notification = Notification.objects.get(recipient=alice)
    read = client.post(f"/notifications/{notification.pk}/read/", HTTP_HX_REQUEST="true")
    assert read.status_code == 204 and "notificationsChanged" in read["HX-Trigger"]
    assert b"unread-count" not in client.get("/notifications/bell/", HTTP_HX_REQUEST="true").content


def test_nobody_reads_or_marks_another_persons_notifications(
    client, alice, bob, book, django_capture_on_commit_callbacks
):
    _raise_flag(book, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(recipient=alice)
    client.force_login(bob)

    client.post(f"/notifications/{notification.pk}/read/")

    assert Notification.objects.get().read_at is None
    assert "Northwind" not in client.get("/notifications/").content.decode()


def _csm_day(alice, book, capture) -> None:
    """A flag, a task due today, a tier proposal and a health fall on Alice's account."""
    _raise_flag(book, capture)
    TaskFactory(account=book, assignee=alice, title="Call the champion", due_on=dt.date(2026, 11, 30))
    TaskFactory(account=book, assignee=alice, title="Next week", due_on=dt.date(2026, 12, 7))
    TierChange.objects.create(
        account=book,
        from_code="MM2",
        to_code="MM1",
        to_name="Mid-Market Tier 1",
        to_rank=2,
        explanation="ACV grew.",
        source="review",
        status="proposed",
    )
    with time_machine.travel(MONDAY_0730_BERLIN - dt.timedelta(hours=2), tick=False):
        notifications_write(
            about="health", ids=[book.pk], detail={"from_bands": ["healthy"], "to_bands": ["at_risk"]}
        )


def test_a_csms_daily_digest_holds_new_flags_tasks_due_proposals_and_health_falls_and_comes_once(
    alice, book, django_capture_on_commit_callbacks
):
    _csm_day(alice, book, django_capture_on_commit_callbacks)

    with time_machine.travel(MONDAY_0730_BERLIN, tick=False):
        assert digests_send()["written"] == 1
        assert digests_send()["written"] == 0  # the next run (or a second beat) writes nothing
        assert outgoing_mail_dispatch()["sent"] == 1
        assert outgoing_mail_dispatch()["sent"] == 0
    (message,) = mail.outbox
    assert message.to == ["Alice Example <alice@csplatform.example>"]
    assert message.subject.startswith(
        "Your daily csplatform digest: 1 new flags on your accounts, 1 tasks due"
    )
    body = message.body
    assert "New flags on your accounts: 1\n  - Usage drop on Northwind Retail" in body
    assert "Tasks due: 1\n  - Call the champion — Northwind Retail, due 30 Nov" in body
    assert "Next week" not in body
    assert "Tier proposals waiting for you: 1\n  - Northwind Retail: MM2 → MM1" in body
    assert "Health falls on your accounts: 1\n  - Health of Northwind Retail fell to at risk" in body
    assert OutgoingMail.objects.get().key == f"digest:{alice.pk}:daily:2026-11-30"

    with time_machine.travel(MONDAY_0730_BERLIN + dt.timedelta(hours=12), tick=False):
        assert digests_send()["written"] == 0  # same local day: same period


def test_the_digest_waits_for_the_persons_own_morning(alice, bob, book, django_capture_on_commit_callbacks):
    _csm_day(alice, book, django_capture_on_commit_callbacks)
    alice.time_zone = "America/New_York"
    alice.save()

    with time_machine.travel(MONDAY_0730_BERLIN, tick=False):  # 01:30 in New York
        digests_send()
    assert not OutgoingMail.objects.filter(user=alice).exists()
    with time_machine.travel(MONDAY_0730_BERLIN + dt.timedelta(hours=6), tick=False):  # 07:30 in New York
        digests_send()
    assert OutgoingMail.objects.get(user=alice).key == f"digest:{alice.pk}:daily:2026-11-30"


def test_preferences_leave_items_out_change_the_frequency_or_stop_the_digest(
    alice, book, token_client, django_capture_on_commit_callbacks
):
    _csm_day(alice, book, django_capture_on_commit_callbacks)
    api = token_client(alice)
    chosen = {"digest_frequency": "daily", "digest_hour": 7, "digest_items": ["new_flags"], "in_app": []}
    saved = api.put("/api/v1/notification-preferences/", chosen, format="json")
    assert saved.status_code == 200 and saved.json() == chosen

    with time_machine.travel(MONDAY_0730_BERLIN, tick=False):
        digests_send()
    body = OutgoingMail.objects.get().body_text
    assert "New flags on your accounts: 1" in body and "Tasks due" not in body and "Health falls" not in body

    api.put("/api/v1/notification-preferences/", {**chosen, "digest_frequency": "never"}, format="json")
    with time_machine.travel(MONDAY_0730_BERLIN + dt.timedelta(days=1), tick=False):
        digests_send()
    assert OutgoingMail.objects.count() == 1

    api.put("/api/v1/notification-preferences/", {**chosen, "digest_frequency": "weekly"}, format="json")
    with time_machine.travel(MONDAY_0730_BERLIN + dt.timedelta(days=1), tick=False):  # Tuesday, week 49
        digests_send()
        digests_send()
    assert OutgoingMail.objects.filter(key=f"digest:{alice.pk}:weekly:2026-W49").count() == 1
    # The bell left out every kind: nothing counts.
    assert Notification.objects.filter(recipient=alice).exists()
    assert api.get("/notifications/bell/").content.count(b"unread-count") == 0


def test_a_preference_that_does_not_exist_is_refused_with_the_valid_ones(alice, client, token_client):
    refused = token_client(alice).put(
        "/api/v1/notification-preferences/",
        {"digest_frequency": "hourly", "digest_hour": 7, "digest_items": ["coffee"], "in_app": []},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == {"digest_frequency": ["Choose one of: daily, weekly, never."]}
    refused = token_client(alice).put(
        "/api/v1/notification-preferences/",
        {
            "digest_frequency": "daily",
            "digest_hour": 7,
            "digest_items": ["coffee", "approvals_waiting"],
            "in_app": [],
        },
        format="json",
    )
    assert refused.json() == {
        "digest_items": [
            "Unknown: coffee, approvals_waiting. "
            "Choose among: new_flags, tasks_due, tier_proposals, health_falls."
        ]
    }
    client.force_login(alice)
    page = client.post(
        "/notifications/preferences/",
        {"digest_frequency": "daily", "digest_hour": "7", "digest_items": ["coffee"]},
    )
    assert page.status_code == 422
    assert (
        "Unknown: coffee. Choose among: new_flags, tasks_due, tier_proposals, health_falls."
        in page.content.decode()
    )


def test_a_leaders_digest_holds_approvals_overloaded_csms_and_commitments_beyond_the_tier(lena, alice, book):
    CommitmentFactory(account=book, description="Weekly calls with the CFO")
    alice.weekly_capacity_hours = 1
    alice.save()
    TaskFactory(account=book, assignee=alice, estimated_minutes=600, due_on=dt.date(2026, 12, 1))
    csm_portfolio_refresh()
    lena.time_zone = "Europe/Berlin"
    lena.save()

    with time_machine.travel(MONDAY_0730_BERLIN, tick=False):
        digests_send(user_ids=[lena.pk])
    body = OutgoingMail.objects.get(user=lena).body_text
    assert (
        "Approvals waiting: 1\n  - Commitment beyond the tier — Northwind Retail: Weekly calls with the CFO"
        in body
    )
    # 10 h of tasks this week plus what MM2's entitlements ask of one account.
    assert "Overloaded CSMs: 1\n  - Alice Example: 10.06 h needed of 1.0 h a week" in body
    assert "Commitments that exceed the tier: 1" in body


def test_an_aes_digest_tells_the_decisions_on_their_commitments(
    lena, tom, book, django_capture_on_commit_callbacks
):
    commitment = CommitmentFactory(account=book, logged_by=tom, description="Weekly calls with the CFO")
    tom.time_zone = "Europe/Berlin"
    tom.save()
    with (
        time_machine.travel(MONDAY_0730_BERLIN - dt.timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        commitment_decline(by=lena, commitment=commitment, reason="Not in MM2.")

    with time_machine.travel(MONDAY_0730_BERLIN, tick=False):
        digests_send(user_ids=[tom.pk])
    body = OutgoingMail.objects.get(user=tom).body_text
    assert "Decisions on your commitments: 1\n  - Your commitment on Northwind Retail was declined" in body


def test_a_digest_with_nothing_to_tell_is_not_sent(alice, book):
    with time_machine.travel(MONDAY_0730_BERLIN, tick=False):
        assert digests_send()["nothing_to_tell"] >= 1
        assert outgoing_mail_dispatch()["sent"] == 0
    assert OutgoingMail.objects.get(user=alice).status == MailStatus.CANCELLED
