"""The open-task minutes the task table's triggers keep (``CsmTaskLoad``) always add up to what the
task table says, whoever writes the tasks and however they are folded.

The reference is the rule the capacity panel states: the minutes of a CSM's open tasks due on or
before a day (overdue included), summed over the task table. Every check compares the kept rows
with it at several horizons.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csplatform import roles
from engagement.capacity.services import csm_task_load_compact
from engagement.models import CsmTaskLoad, Task, TaskStatus
from tests.engagement.factories import TaskFactory
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 22)


def _kept(due_by: dt.date) -> dict[int, int]:
    rows = CsmTaskLoad.objects.filter(due_on__lte=due_by).values("assignee_id").annotate(m=Sum("minutes"))
    return {row["assignee_id"]: row["m"] for row in rows if row["m"]}


def _live(due_by: dt.date) -> dict[int, int]:
    rows = (
        Task.objects.filter(status=TaskStatus.OPEN, assignee__isnull=False, due_on__lte=due_by)
        .values("assignee_id")
        .annotate(m=Sum("estimated_minutes"))
    )
    return {row["assignee_id"]: row["m"] for row in rows if row["m"]}


def _assert_agree(*, from_day: dt.date) -> None:
    """Kept and live agree at every horizon a reader on ``from_day`` or later can ask for."""
    for offset in (7, 8, 10, 40, 400):
        horizon = from_day + dt.timedelta(days=offset)
        assert _kept(horizon) == _live(horizon), f"horizon {horizon}"


def test_every_kind_of_task_write_keeps_the_minutes_exact(alice, bob, lena, frozen_now, client) -> None:
    today = frozen_now.date()
    account = AccountFactory(csm=alice)
    day = dt.timedelta(days=1)
    first = TaskFactory(account=account, assignee=alice, estimated_minutes=30, due_on=today - 3 * day)
    TaskFactory(account=account, assignee=alice, estimated_minutes=45, due_on=today + 2 * day)
    TaskFactory(account=account, assignee=bob, estimated_minutes=60, due_on=today + 9 * day)
    TaskFactory(account=account, assignee=bob, estimated_minutes=90, due_on=today, status=TaskStatus.DONE)
    TaskFactory(account=account, assignee=None, estimated_minutes=15, due_on=today)
    Task.objects.bulk_create(
        Task(
            account=account, assignee=assignee, title=f"Bulk {n}", due_on=today + n * day, estimated_minutes=n
        )
        for n in range(1, 13)
        for assignee in (alice, bob, lena)
    )
    assert _live(today + 7 * day)[alice.pk] == 30 + 45 + sum(range(1, 8))
    _assert_agree(from_day=today - 7 * day)

    # Completed through the page: its minutes leave the CSM's load.
    client.force_login(alice)
    response = client.post(f"/tasks/{first.pk}/complete/", headers={"HX-Request": "true"})
    assert response.status_code == 204  # the account page refreshes itself on the event
    first.refresh_from_db()
    assert first.status == TaskStatus.DONE
    assert _kept(today + 7 * day)[alice.pk] == 45 + sum(range(1, 8))

    # A write the load does not depend on appends nothing.
    rows = CsmTaskLoad.objects.count()
    Task.objects.filter(assignee=alice).update(title="Renamed")
    assert CsmTaskLoad.objects.count() == rows

    Task.objects.filter(assignee=bob, due_on__lte=today + 5 * day).update(due_on=today + 20 * day)
    Task.objects.filter(assignee=lena, estimated_minutes__gt=6).update(estimated_minutes=120)
    Task.objects.filter(assignee=lena, estimated_minutes=3).update(assignee=alice)
    Task.objects.filter(assignee=alice, estimated_minutes=4).update(status=TaskStatus.CANCELLED)
    Task.objects.filter(assignee=None).update(assignee=bob)
    Task.objects.filter(assignee=bob, estimated_minutes=11).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE engagement_task SET status = 'open' WHERE assignee_id = %s AND status = 'done'", [bob.pk]
        )
    _assert_agree(from_day=today - 7 * day)

    # Deleting a user sets their tasks' assignee to NULL: their minutes leave with them.
    lena.delete()
    assert lena.pk not in _kept(today + 400 * day)
    _assert_agree(from_day=today - 7 * day)


def test_folding_keeps_the_sums_and_leaves_about_one_row_per_csm(alice, bob, frozen_now) -> None:
    today = frozen_now.date()
    account = AccountFactory(csm=alice)
    for offset in range(-20, 8):
        for assignee in (alice, bob):
            TaskFactory(
                account=account,
                assignee=assignee,
                estimated_minutes=10 + abs(offset),
                due_on=today + dt.timedelta(days=offset),
            )
    TaskFactory(account=account, assignee=alice, estimated_minutes=50, due_on=today + dt.timedelta(days=30))
    assert CsmTaskLoad.objects.count() == 2 * 28 + 1

    month_ahead = CsmTaskLoad.objects.get(due_on=today + dt.timedelta(days=30))

    written = csm_task_load_compact(today=today)

    # Every day up to a week ahead folded into one row per CSM; the task due in a month keeps its
    # own row, untouched (a fold rewrites only what needs folding).
    assert written == 2 and CsmTaskLoad.objects.count() == 3
    assert CsmTaskLoad.objects.get(due_on=today + dt.timedelta(days=30)) == month_ahead
    _assert_agree(from_day=today)
    # Tasks folded away still leave the load when they are done, on a later day too.
    Task.objects.filter(assignee=alice, due_on=today - dt.timedelta(days=20)).update(status=TaskStatus.DONE)
    later = today + dt.timedelta(days=3)
    _assert_agree(from_day=later)
    assert csm_task_load_compact(today=later) == 2  # both folded rows move to the later horizon
    assert CsmTaskLoad.objects.count() == 3
    _assert_agree(from_day=later)
    # Twice is the same as once, and the second writes nothing.
    assert csm_task_load_compact(today=later) == 0
    assert CsmTaskLoad.objects.count() == 3
    _assert_agree(from_day=later)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("create"), st.integers(0, 2), st.integers(-10, 15), st.integers(0, 120)),
            st.tuples(
                st.just("close"),
                st.integers(0, 2),
                st.integers(-10, 15),
                st.sampled_from(["done", "cancelled"]),
            ),
            st.tuples(st.just("move"), st.integers(0, 2), st.integers(-10, 15), st.integers(0, 2)),
            st.tuples(st.just("reopen"), st.integers(0, 2), st.integers(-10, 15), st.just(0)),
            st.tuples(st.just("fold"), st.integers(0, 3), st.just(0), st.just(0)),
        ),
        max_size=30,
    )
)
def test_generated_writes_and_folds_keep_the_kept_minutes_equal_to_the_tasks(steps, db) -> None:
    """Generated books: tasks created, closed, moved to another CSM and reopened, folded on days
    that only move forward; after every step the kept minutes equal the task table's."""
    sid = transaction.savepoint()
    try:
        csms = [UserFactory(username=f"load{n}", role=roles.CSM) for n in range(3)]
        account = AccountFactory(csm=csms[0])
        folded_on = TODAY
        for kind, who, offset, value in steps:
            if kind == "fold":
                folded_on += dt.timedelta(days=who)
                csm_task_load_compact(today=folded_on)
                _assert_agree(from_day=folded_on)
                continue
            due_on = TODAY + dt.timedelta(days=offset)
            mine = Task.objects.filter(assignee=csms[who], due_on__lte=due_on)
            if kind == "create":
                TaskFactory(account=account, assignee=csms[who], estimated_minutes=value, due_on=due_on)
            elif kind == "close":
                mine.filter(status=TaskStatus.OPEN).update(status=value)
            elif kind == "move":
                mine.update(assignee=csms[value])
            else:
                mine.update(status=TaskStatus.OPEN)
            _assert_agree(from_day=folded_on)
    finally:
        transaction.savepoint_rollback(sid)
