"""Flags at their thresholds, after a metrics sync, nightly, expiring and resolved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Account
from accounts.signals import contacts_changed, usage_received
from engagement.flags.jobs import flags_nightly
from engagement.flags.services import flags_detect, flags_expire
from engagement.models import Flag, FlagStatus
from tests.engagement.factories import FlagFactory, tiered_account
from tests.factories import ContactFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db


def usage(account: Account, *, users: list[int], tickets: list[int] | None = None) -> None:
    """Weekly snapshots, oldest first; the last one is the latest period."""
    tickets = tickets or [0] * len(users)
    start = dt.date(2026, 10, 5)
    for week, (active, opened) in enumerate(zip(users, tickets, strict=True)):
        UsageSnapshotFactory(
            account=account,
            period_start=start + dt.timedelta(weeks=week),
            active_users=active,
            support_tickets=opened,
        )


def kinds(account: Account) -> set[str]:
    return set(Flag.objects.filter(account=account, status=FlagStatus.OPEN).values_list("kind", flat=True))


@pytest.mark.parametrize(
    ("latest", "expected"),
    [(70, {"usage_drop"}), (71, set()), (150, {"usage_spike"}), (149, set())],
)
def test_usage_thresholds_are_inclusive(alice, frozen_now, latest, expected) -> None:
    account = tiered_account("MM2", csm=alice, renewal_date=None)
    usage(account, users=[100, 90, 110, 100, latest])  # baseline: mean of 4 periods = 100
    flags_detect(account_ids=[account.pk])
    assert kinds(account) == expected


@pytest.mark.parametrize(
    ("history", "latest", "raised"),
    [
        ([2, 2, 2, 2], 5, True),  # at the minimum and above twice the average
        ([2, 2, 2, 2], 4, False),  # twice the average but under the minimum
        ([3, 3, 3, 3], 6, True),  # exactly twice the average
        ([3, 3, 3, 3], 5, False),
    ],
)
def test_ticket_surge_needs_both_the_minimum_and_the_factor(
    alice, frozen_now, history, latest, raised
) -> None:
    account = tiered_account("MM2", csm=alice, renewal_date=None)
    usage(account, users=[50] * 5, tickets=[*history, latest])
    flags_detect(account_ids=[account.pk])
    assert ("ticket_surge" in kinds(account)) is raised


def test_thresholds_are_settings(alice, frozen_now, settings) -> None:
    settings.FLAG_USAGE_DROP_PERCENT = 40
    account = tiered_account("MM2", csm=alice, renewal_date=None)
    usage(account, users=[100, 100, 100, 100, 65])
    flags_detect(account_ids=[account.pk])
    assert kinds(account) == set()


def test_renewal_near_at_the_boundary(alice, frozen_now) -> None:
    in_60 = tiered_account("MM2", csm=alice, renewal_date=dt.date(2027, 1, 21))
    in_61 = tiered_account("MM2", csm=alice, renewal_date=dt.date(2027, 1, 22))
    flags_detect(account_ids=[in_60.pk, in_61.pk])
    assert kinds(in_60) == {"renewal_near"} and kinds(in_61) == set()


def test_a_metrics_sync_detects_flags(alice, frozen_now, django_capture_on_commit_callbacks) -> None:
    account = tiered_account("MM3", csm=alice, renewal_date=None)
    usage(account, users=[40, 40, 40, 40, 10])
    with django_capture_on_commit_callbacks(execute=True):
        usage_received.send(sender=None, account_ids=[account.pk])
    assert kinds(account) == {"usage_drop"}


def test_a_champion_who_leaves_raises_a_flag(alice, frozen_now, django_capture_on_commit_callbacks) -> None:
    account = tiered_account("MM1", csm=alice)
    champion = ContactFactory(account=account, is_champion=True)
    with django_capture_on_commit_callbacks(execute=True):
        contacts_changed.send(sender=None, account_ids=[account.pk])
    assert kinds(account) == set()
    champion.is_champion = False
    champion.save()
    with django_capture_on_commit_callbacks(execute=True):
        contacts_changed.send(sender=None, account_ids=[account.pk])
    assert kinds(account) == {"champion_left"}


def test_nightly_run_expires_old_flags_and_detects_once_per_day(alice, frozen_now) -> None:
    account = tiered_account("MM2", csm=alice, renewal_date=dt.date(2027, 1, 1))
    old = FlagFactory(account=account, kind="usage_spike", expires_at=frozen_now - dt.timedelta(minutes=1))
    flags_nightly.apply()
    old.refresh_from_db()
    assert old.status == FlagStatus.EXPIRED
    assert kinds(account) == {"renewal_near"}
    Flag.objects.filter(account=account).delete()
    flags_nightly.apply()  # the same slot: another beat already ran it
    assert kinds(account) == set()


def test_flags_expire_after_the_configured_days(alice, frozen_now) -> None:
    account = tiered_account("MM2", csm=alice, renewal_date=dt.date(2027, 1, 1))
    flags_detect(account_ids=[account.pk])
    flag = Flag.objects.get(account=account)
    assert flag.expires_at == frozen_now + dt.timedelta(days=14)
    assert flags_expire(now=frozen_now + dt.timedelta(days=13)) == 0
    assert flags_expire(now=frozen_now + dt.timedelta(days=14)) == 1


def test_the_owner_resolves_a_flag_and_others_may_not(api_client, alice, bob, frozen_now) -> None:
    account = tiered_account("MM2", csm=alice)
    flag = FlagFactory(account=account)
    url = reverse("api:flags-resolve", args=[flag.pk])
    api_client.force_authenticate(bob)
    assert api_client.post(url, {"note": "x"}, format="json").status_code == 404
    api_client.force_authenticate(alice)
    response = api_client.post(url, {"note": "Spoke to them; seasonal."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert api_client.post(url, {}, format="json").status_code == 400


def test_nightly_coverage_and_renewal_jobs_run_once_per_slot(alice, frozen_now) -> None:
    from engagement.coverage.jobs import coverage_nightly
    from engagement.models import EntitlementCoverage, Task
    from engagement.playbook_runs.jobs import renewal_playbooks_nightly

    account = tiered_account("MM1", csm=alice, renewal_date=dt.date(2027, 1, 10))
    coverage_nightly.apply()
    renewal_playbooks_nightly.apply()
    assert EntitlementCoverage.objects.filter(account=account).count() == 2
    assert Task.objects.filter(account=account, title="Prepare the renewal").count() == 1
    EntitlementCoverage.objects.all().delete()
    coverage_nightly.apply()
    assert not EntitlementCoverage.objects.exists(), "a second run in the same slot does nothing"


def test_a_batch_that_collides_with_a_flag_raised_meanwhile_keeps_only_the_new_ones(alice) -> None:
    from django.utils import timezone

    from csplatform.bulk import rows_insert_new

    account = tiered_account("MM2", csm=alice)
    now = timezone.now()
    FlagFactory(account=account, kind="usage_drop")  # raised by another run in the meantime

    def flag(kind: str) -> Flag:
        later = now + dt.timedelta(days=7)
        return Flag(account=account, kind=kind, explanation=kind, raised_at=now, expires_at=later)

    inserted = rows_insert_new([flag("usage_drop"), flag("ticket_surge")])

    assert [row.kind for row in inserted] == ["ticket_surge"]
    assert inserted[0].pk is not None
    assert sorted(Flag.objects.filter(account=account).values_list("kind", flat=True)) == [
        "ticket_surge",
        "usage_drop",
    ]
