"""The SQL in engagement/*/queries.py agrees with the Python rules it mirrors, on generated accounts.

- The worklist score the database orders by (``queries.worklist``) is the sum of the points of
  the reasons ``worklist_score_parts`` gives, for the same account state: tiers, overdue
  entitlements, open and closed flags, renewal dates, proposals, commitments, tasks.
- The coverage ``coverage_recompute`` stores (``queries.coverage``) is the definition in Python
  (``coverage_figures_for_accounts``): per entitled module, the last delivery, next due = last +
  cadence, overdue, deliveries and plan over the window.

Each example writes its rows in a savepoint and rolls them back, so examples do not see each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from csplatform import roles
from engagement.coverage.services import CoverageFigures, coverage_figures_for_accounts, coverage_recompute
from engagement.models import (
    EntitlementCoverage,
    FlagKind,
    FlagStatus,
    ModuleDelivery,
    TaskStatus,
)
from engagement.worklist.selectors import worklist_accounts, worklist_entries
from engagement.worklist.services import worklist_score_parts
from playbooks.models import AccountAddOn, ServiceModule
from playbooks.selectors import entitlements_for_account
from tests.engagement.factories import CommitmentFactory, FlagFactory, TaskFactory, tiered_account
from tests.factories import AccountFactory, UserFactory
from tests.segmentation.factories import TierChangeFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 22)
NOON = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
TIERS = [None, "ENT", "MM1", "MM2", "MM3"]

# Each example is a few inserts and one or two queries; rolled back, so the database fixtures
# (function-scoped) are safe to share between examples.
examples = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def make_account(tier: str | None, **fields: object) -> Account:
    if tier is None:
        return AccountFactory(tier_code="", tier_name="", tier_rank=None, **fields)
    return tiered_account(tier, **fields)


# --- The worklist score ------------------------------------------------------------------------


@dataclass
class TaskSpec:
    due_in: int
    snoozed_for: int | None
    status: str


@dataclass
class WorklistState:
    tier: str | None
    coverage_due_in: list[int]  # one recurring entitlement per entry, due in n days
    flags: dict[str, str]  # kind -> status
    renews_in: int | None
    pending_proposal: bool
    commitments: list[str]  # statuses
    tasks: list[TaskSpec]


worklist_states = st.builds(
    WorklistState,
    tier=st.sampled_from(TIERS),
    coverage_due_in=st.lists(st.integers(-70, 20), max_size=3),
    flags=st.dictionaries(
        st.sampled_from(FlagKind.values), st.sampled_from([FlagStatus.OPEN, FlagStatus.RESOLVED]), max_size=3
    ),
    renews_in=st.one_of(st.none(), st.integers(-10, 120)),
    pending_proposal=st.booleans(),
    commitments=st.lists(st.sampled_from(["within_tier", "exceeds_tier", "declined"]), max_size=2),
    tasks=st.lists(
        st.builds(
            TaskSpec,
            due_in=st.integers(-5, 5),
            snoozed_for=st.one_of(st.none(), st.integers(-3, 3)),
            status=st.sampled_from([TaskStatus.OPEN, TaskStatus.DONE]),
        ),
        max_size=3,
    ),
)


def store_worklist_state(state: WorklistState, *, csm: object) -> Account:
    account = make_account(
        state.tier, csm=csm, renewal_date=days(state.renews_in) if state.renews_in is not None else None
    )
    modules = list(ServiceModule.objects.order_by("pk")[: len(state.coverage_due_in)])
    for module, due_in in zip(modules, state.coverage_due_in, strict=True):
        EntitlementCoverage.objects.create(
            account=account,
            module=module,
            cadence_days=30,
            entitled_since=days(-400),
            next_due_on=days(due_in),
            computed_on=TODAY,
        )
    for n, (kind, status) in enumerate(state.flags.items()):
        FlagFactory(account=account, kind=kind, status=status, raised_at=NOON - dt.timedelta(hours=10 - n))
    if state.pending_proposal:
        TierChangeFactory(account=account)
    for status in state.commitments:
        CommitmentFactory(account=account, status=status)
    for task in state.tasks:
        snoozed = days(task.snoozed_for) if task.snoozed_for is not None else None
        TaskFactory(
            account=account,
            due_on=days(task.due_in),
            snoozed_until=snoozed,
            snooze_reason="Waiting on the customer." if snoozed else "",
            status=task.status,
        )
    return account


def expected_parts(state: WorklistState) -> list:
    """The Python rule applied to the state as generated (no database)."""
    overdue = [days(n) for n in state.coverage_due_in if days(n) < TODAY]
    open_tasks = [
        t
        for t in state.tasks
        if t.status == TaskStatus.OPEN and (t.snoozed_for is None or days(t.snoozed_for) <= TODAY)
    ]
    return worklist_score_parts(
        overdue_entitlements=len(overdue),
        oldest_due=min(overdue, default=None),
        flag_kinds=[kind for kind, status in state.flags.items() if status == FlagStatus.OPEN],
        renewal_date=days(state.renews_in) if state.renews_in is not None else None,
        renewal_days=90,
        pending_proposal=state.pending_proposal,
        pending_commitments=state.commitments.count("exceeds_tier"),
        overdue_tasks=sum(1 for t in open_tasks if days(t.due_in) < TODAY),
        tier_rank={"ENT": 1, "MM1": 2, "MM2": 3, "MM3": 4}.get(state.tier or ""),
        today=TODAY,
    )


@examples
@given(state=worklist_states)
@override_settings(WORKLIST_RENEWAL_DAYS=90)
def test_the_sql_score_is_the_sum_of_the_python_reasons_points(state: WorklistState) -> None:
    with rolled_back():
        csm = UserFactory(role=roles.CSM)
        account = store_worklist_state(state, csm=csm)
        parts = expected_parts(state)

        (scored,) = worklist_accounts(csm=csm, today=TODAY)
        assert scored.pk == account.pk
        assert scored.score == sum(part.points for part in parts)
        (entry,) = worklist_entries([scored], today=TODAY)
        assert entry.score_parts == parts
        assert entry.reasons == [part.reason for part in parts if part.reason]
        # "Needs attention" means a reason beyond the tier rank's tie-break.
        attention = [a.pk for a in worklist_accounts(csm=csm, today=TODAY, needs_attention=True)]
        assert attention == ([account.pk] if any(p.rule != "tier_rank" for p in parts) else [])


@examples
@given(states=st.lists(worklist_states, min_size=2, max_size=4))
@override_settings(WORKLIST_RENEWAL_DAYS=90)
def test_the_worklist_is_ordered_by_the_python_score(states: list[WorklistState]) -> None:
    with rolled_back():
        csm = UserFactory(role=roles.CSM)
        expected = {store_worklist_state(state, csm=csm).pk: expected_parts(state) for state in states}
        scores = [(a.pk, a.score) for a in worklist_accounts(csm=csm, today=TODAY)]
        assert dict(scores) == {pk: sum(p.points for p in parts) for pk, parts in expected.items()}
        assert [score for _, score in scores] == sorted((score for _, score in scores), reverse=True)
        # A page is the same slice of the same order.
        assert [a.pk for a in worklist_accounts(csm=csm, today=TODAY, limit=2, offset=1)] == [
            pk for pk, _ in scores[1:3]
        ]


# --- Coverage ----------------------------------------------------------------------------------


@dataclass
class AddOnSpec:
    module: int  # index into the catalogue
    cadence_days: int | None
    status: str
    starts_in: int
    lasts: int | None


@dataclass
class CoverageState:
    tier: str | None
    tiered_days_ago: int | None  # None: never changed tier (counts from the account's creation)
    deliveries: list[tuple[int, int]]  # (module index, delivered in n days)
    add_ons: list[AddOnSpec]


coverage_states = st.builds(
    CoverageState,
    tier=st.sampled_from(TIERS),
    tiered_days_ago=st.one_of(st.none(), st.integers(0, 400)),
    deliveries=st.lists(st.tuples(st.integers(0, 5), st.integers(-200, 3)), max_size=6),
    add_ons=st.lists(
        st.builds(
            AddOnSpec,
            module=st.integers(0, 5),
            cadence_days=st.sampled_from([None, 7, 30, 45, 90]),
            status=st.sampled_from(["approved", "approved", "pending"]),
            starts_in=st.integers(-120, 5),
            lasts=st.one_of(st.none(), st.integers(0, 200)),
        ),
        max_size=3,
    ),
)


def store_coverage_state(state: CoverageState, modules: list[ServiceModule]) -> Account:
    fields: dict[str, object] = {}
    if state.tier is not None and state.tiered_days_ago is not None:
        fields["tiered_on"] = days(-state.tiered_days_ago)
    account = make_account(state.tier, **fields)
    if state.tier is not None and state.tiered_days_ago is None:
        Account.objects.filter(pk=account.pk).update(tier_updated_at=None)
        account.refresh_from_db()
    for module_index, delivered_in in state.deliveries:
        moment = NOON + dt.timedelta(days=delivered_in)
        ModuleDelivery.objects.create(
            account=account,
            module=modules[module_index],
            delivered_at=moment,
            delivered_on=moment.date(),
            source="manual",
        )
    for add_on in state.add_ons:
        starts_on = days(add_on.starts_in)
        AccountAddOn.objects.create(
            account=account,
            module=modules[add_on.module],
            cadence_days=add_on.cadence_days,
            status=add_on.status,
            starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(days=add_on.lasts) if add_on.lasts is not None else None,
        )
    return account


def stored_figures(accounts: list[Account]) -> set[CoverageFigures]:
    return {
        CoverageFigures(
            account_id=row.account_id,
            module_id=row.module_id,
            cadence_days=row.cadence_days,
            is_add_on=row.is_add_on,
            entitled_since=row.entitled_since,
            last_delivered_on=row.last_delivered_on,
            next_due_on=row.next_due_on,
            delivered_in_window=row.delivered_in_window,
            planned_in_window=row.planned_in_window,
        )
        for row in EntitlementCoverage.objects.filter(account__in=accounts)
    }


@examples
@given(
    states=st.lists(coverage_states, min_size=1, max_size=3),
    window_days=st.sampled_from([30, 90]),
    later_delivery=st.tuples(st.integers(0, 5), st.integers(-30, 0)),
)
def test_stored_coverage_is_the_python_definition(
    states: list[CoverageState], window_days: int, later_delivery: tuple[int, int]
) -> None:
    with rolled_back(), override_settings(COVERAGE_WINDOW_DAYS=window_days):
        modules = list(ServiceModule.objects.order_by("code")[:6])
        accounts = [store_coverage_state(state, modules) for state in states]

        coverage_recompute(today=TODAY)  # every account, by id range
        expected = coverage_figures_for_accounts(accounts=accounts, today=TODAY, window_days=window_days)
        assert stored_figures(accounts) == set(expected)
        for account in accounts:  # the recurring entitlements are the ones playbooks grant
            recurring = {
                e.module_id: e.cadence_days
                for e in entitlements_for_account(account=account, on=TODAY)
                if e.cadence_days
            }
            assert recurring == {f.module_id: f.cadence_days for f in expected if f.account_id == account.pk}
        overdue = {(f.account_id, f.module_id) for f in expected if f.is_overdue(today=TODAY)}
        assert overdue == set(
            EntitlementCoverage.objects.filter(account__in=accounts, next_due_on__lt=TODAY).values_list(
                "account_id", "module_id"
            )
        )

        # A delivery later: recomputing the account alone (by id) updates its rows in place.
        module_index, delivered_in = later_delivery
        moment = NOON + dt.timedelta(days=delivered_in)
        ModuleDelivery.objects.create(
            account=accounts[0],
            module=modules[module_index],
            delivered_at=moment,
            delivered_on=moment.date(),
            source="manual",
        )
        coverage_recompute(account_ids=[accounts[0].pk], today=TODAY)
        expected = coverage_figures_for_accounts(accounts=accounts, today=TODAY, window_days=window_days)
        assert stored_figures(accounts) == set(expected)
