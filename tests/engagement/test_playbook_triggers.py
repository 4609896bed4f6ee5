"""Each playbook trigger starts the right playbook once; leaving a tier cancels its open tasks."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Account
from accounts.signals import accounts_changed
from engagement.flags.services import Signal, flags_raise
from engagement.handoffs.services import commitment_accept
from engagement.models import PlaybookRun, Task, TaskStatus
from engagement.playbook_runs.services import renewal_playbooks_start
from segmentation.signals import override_applied, tier_changed
from tests.engagement.factories import CommitmentFactory, tiered_account

pytestmark = pytest.mark.django_db


def send_tier_changed(capture, account: Account, from_code: str, to_code: str, change_id: int) -> None:
    Account.objects.filter(pk=account.pk).update(tier_code=to_code)
    with capture(execute=True):
        tier_changed.send(
            sender=None,
            account_id=account.pk,
            from_code=from_code,
            to_code=to_code,
            source="event",
            change_id=change_id,
        )


def open_titles(account: Account) -> set[str]:
    return set(Task.objects.filter(account=account, status=TaskStatus.OPEN).values_list("title", flat=True))


def test_entering_enterprise_starts_the_kickoff_with_due_dates_and_checklists(
    alice, frozen_now, django_capture_on_commit_callbacks
) -> None:
    account = tiered_account("MM1", csm=alice)
    send_tier_changed(django_capture_on_commit_callbacks, account, "MM1", "ENT", change_id=11)
    call = Task.objects.get(account=account, title="Executive alignment call")
    assert call.due_on == dt.date(2026, 11, 29)  # 7 days after 22 November in Berlin
    assert call.assignee == alice and call.tier_code == "ENT"
    assert "Identify the executive sponsor" in call.checklist
    assert call.module.code == "onboarding_kickoff"
    assert Task.objects.get(account=account, title="Write the success plan").due_on == dt.date(2026, 12, 6)


def test_the_same_tier_change_handled_twice_starts_the_playbook_once(
    alice, frozen_now, django_capture_on_commit_callbacks
) -> None:
    account = tiered_account("MM1", csm=alice)
    send_tier_changed(django_capture_on_commit_callbacks, account, "MM1", "ENT", change_id=12)
    send_tier_changed(django_capture_on_commit_callbacks, account, "MM1", "ENT", change_id=12)
    assert Task.objects.filter(account=account, title="Executive alignment call").count() == 1
    assert PlaybookRun.objects.filter(account=account, playbook__code="enterprise-kickoff").count() == 1


def test_leaving_a_tier_cancels_its_open_playbook_tasks_and_starts_left_and_entered_playbooks(
    alice, frozen_now, django_capture_on_commit_callbacks
) -> None:
    account = tiered_account("MM1", csm=alice)
    send_tier_changed(django_capture_on_commit_callbacks, account, "MM1", "ENT", change_id=1)
    hand_made = Task.objects.create(account=account, title="Call about invoices", due_on=frozen_now.date())
    send_tier_changed(django_capture_on_commit_callbacks, account, "ENT", "MM1", change_id=2)
    cancelled = Task.objects.filter(account=account, status=TaskStatus.CANCELLED)
    assert set(cancelled.values_list("title", flat=True)) == {
        "Executive alignment call",
        "Write the success plan",
    }
    assert cancelled.first().cancelled_reason == "The account left ENT."
    assert {
        "Tell the customer how their service changes",
        "Kickoff call",
        "First catch-up call",
    } <= open_titles(account)
    hand_made.refresh_from_db()
    assert hand_made.status == TaskStatus.OPEN, "tasks created by hand stay"


def test_onboarding_started_welcomes_a_new_customer(
    alice, frozen_now, django_capture_on_commit_callbacks
) -> None:
    account = tiered_account("MM2", csm=alice, lifecycle_stage="onboarding")
    adopting = tiered_account("MM2", csm=alice, lifecycle_stage="adopting")
    with django_capture_on_commit_callbacks(execute=True):
        accounts_changed.send(sender=Account, account_ids=[account.pk, adopting.pk], fields={"created"})
    assert open_titles(account) == {"Welcome the customer"}
    assert Task.objects.get(account=account).due_on == dt.date(2026, 11, 24)
    assert open_titles(adopting) == set()


def test_renewal_in_n_days_starts_once_per_renewal(alice, frozen_now) -> None:
    renewing = tiered_account("MM1", csm=alice, renewal_date=dt.date(2027, 2, 20))  # in 90 days
    later = tiered_account("MM1", csm=alice, renewal_date=dt.date(2027, 2, 21))  # in 91 days
    assert renewal_playbooks_start(today=frozen_now.date()) == 1
    assert renewal_playbooks_start(today=frozen_now.date()) == 0
    assert open_titles(renewing) == {"Prepare the renewal"}
    assert open_titles(later) == set()


def test_a_raised_flag_starts_the_playbook_for_its_kind(alice, frozen_now) -> None:
    account = tiered_account("MM3", csm=alice)
    flags_raise(signals=[Signal(account.pk, "usage_drop", "Active users fell 40%.", {})])
    assert open_titles(account) == {"Reach out about the usage drop"}
    flags_raise(signals=[Signal(account.pk, "usage_drop", "Still down.", {})])
    assert Task.objects.filter(account=account).count() == 1, "an open flag of that kind is not raised again"


def test_an_applied_override_starts_the_override_playbook(
    alice, frozen_now, django_capture_on_commit_callbacks
) -> None:
    account = tiered_account("MM2", csm=alice)
    with django_capture_on_commit_callbacks(execute=True):
        override_applied.send(sender=None, account_id=account.pk, override_id=5, tier_code="MM1")
    assert open_titles(account) == {"Plan the service for the overridden tier"}


def test_an_accepted_commitment_starts_its_playbook(alice, tom, lena, frozen_now) -> None:
    account = tiered_account("MM2", csm=alice, ae=tom)
    commitment = CommitmentFactory(account=account, logged_by=tom)
    commitment_accept(by=lena, commitment=commitment)
    assert open_titles(account) == {"Schedule the committed service"}


def test_entering_the_digital_tier_enrols_contacts_in_the_journey(
    alice, frozen_now, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from engagement.journeys import services as journeys

    calls = []
    monkeypatch.setattr(journeys, "enrolment_start_for_account", lambda **kwargs: calls.append(kwargs) or 0)
    account = tiered_account("MM2", csm=alice)
    send_tier_changed(django_capture_on_commit_callbacks, account, "MM2", "MM3", change_id=30)
    assert calls == [
        {
            "journey_code": "digital-onboarding",
            "account_id": account.pk,
            "source": "playbook:mm3-digital-onboarding",
        }
    ]
    assert open_titles(account) == {"Check onboarding progress"}


def test_a_review_chunk_of_tier_changes_is_handled_together(
    alice, frozen_now, django_capture_on_commit_callbacks
) -> None:
    from segmentation.models import TierChange
    from segmentation.signals import tier_changes_applied

    movers = [tiered_account("MM1", csm=alice) for _ in range(6)]
    Account.objects.filter(pk__in=[a.pk for a in movers]).update(tier_code="ENT")
    changes = [
        TierChange.objects.create(
            account=a,
            from_code="MM1",
            to_code="ENT",
            to_name="Enterprise",
            to_rank=1,
            explanation="ACV up.",
            source="review",
            status="applied",
            applied_at=frozen_now,
        )
        for a in movers
    ]
    with django_capture_on_commit_callbacks(execute=True):
        tier_changes_applied.send(
            sender=TierChange,
            account_ids=[a.pk for a in movers],
            change_ids=[c.pk for c in changes],
            source="review",
            review_id=None,
        )
    for account in movers:
        assert open_titles(account) == {"Executive alignment call", "Write the success plan"}
    with django_capture_on_commit_callbacks(execute=True):
        tier_changes_applied.send(
            sender=TierChange,
            account_ids=[a.pk for a in movers],
            change_ids=[c.pk for c in changes],
            source="review",
            review_id=None,
        )
    assert Task.objects.filter(account__in=movers).count() == 12, "handling the chunk twice adds nothing"


def test_initial_tiering_starts_no_playbooks(alice, frozen_now, django_capture_on_commit_callbacks) -> None:
    from segmentation.signals import tier_changes_applied

    account = tiered_account("ENT", csm=alice)
    with django_capture_on_commit_callbacks(execute=True):
        tier_changes_applied.send(
            sender=None, account_ids=[account.pk], change_ids=[1], source="initial", review_id=None
        )
    assert open_titles(account) == set()
