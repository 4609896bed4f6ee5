"""The team the capacity panel ranks (the kept ``CsmPortfolioLoad`` rows with a capacity) is kept
by the database: after any write to users, their groups or the groups themselves, it holds exactly
the active users of the CSM group with their capacity, as the ORM reads them from the users (the
definition ``csm_capacity`` uses); and the portfolio refresh, which writes the same rows, leaves
the capacities alone.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csplatform import roles
from csplatform.models import User
from engagement.capacity.selectors import team_capacity
from engagement.capacity.services import csm_portfolio_refresh
from engagement.models import CsmPortfolioLoad
from tests.engagement.factories import tiered_account
from tests.factories import UserFactory


def _live() -> dict[int, Decimal]:
    csms = User.objects.filter(is_active=True, groups__name=roles.CSM)
    return dict(csms.values_list("pk", "weekly_capacity_hours"))


def _kept() -> dict[int, Decimal]:
    kept = CsmPortfolioLoad.objects.filter(capacity_hours__isnull=False)
    return dict(kept.values_list("csm_id", "capacity_hours"))


@pytest.mark.django_db
def test_each_kind_of_write_keeps_the_team_exact() -> None:
    csm_group = Group.objects.get(name=roles.CSM)
    leader_group = Group.objects.get(name=roles.CS_LEADERSHIP)
    ada = UserFactory(username="ada", role=roles.CSM, weekly_capacity_hours=Decimal("32.5"))
    bo = UserFactory(username="bo", role=roles.CSM)
    cy = UserFactory(username="cy", role=roles.CS_LEADERSHIP)
    assert _kept() == _live() == {ada.pk: Decimal("32.5"), bo.pk: Decimal("40")}

    steps = [
        lambda: cy.groups.add(csm_group),  # a second group
        lambda: cy.groups.remove(leader_group),  # another group leaves: still a CSM
        lambda: User.objects.filter(pk=bo.pk).update(weekly_capacity_hours=Decimal("12")),
        lambda: User.objects.filter(pk=ada.pk).update(is_active=False),
        lambda: User.objects.filter(pk=ada.pk).update(is_active=True, weekly_capacity_hours=0),
        lambda: bo.groups.clear(),
        lambda: bo.groups.set([csm_group, leader_group]),
        lambda: User.groups.through.objects.filter(user_id=cy.pk).update(group_id=leader_group.pk),
        lambda: User.objects.filter(pk=ada.pk).delete(),
    ]
    for step in steps:
        step()
        assert _kept() == _live()
    assert _kept() == {bo.pk: Decimal("12")}

    # Renaming the group takes everyone out; naming another group so brings its members in.
    csm_group.name = "Former CSMs"
    csm_group.save()
    assert _kept() == _live() == {}
    leader_group.name = roles.CSM
    leader_group.save()
    assert _kept() == _live() == {bo.pk: Decimal("12"), cy.pk: Decimal("40")}
    leader_group.delete()
    assert _kept() == _live() == {}


@pytest.mark.django_db
def test_a_sign_in_writes_nothing_to_the_team() -> None:
    csm = UserFactory(username="quiet", role=roles.CSM)
    before = CsmPortfolioLoad.objects.get(pk=csm.pk)

    def row_version() -> tuple[str, str]:
        # xmin: the transaction that wrote the row; xmax: one that locked it (even a sync that
        # finds nothing to change locks the row it compares), '0' when none did.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xmin::text, xmax::text FROM engagement_csmportfolioload WHERE csm_id = %s",
                [csm.pk],
            )
            return cursor.fetchone()

    version = row_version()
    assert version[1] == "0"
    csm.last_login = csm.date_joined
    csm.save()
    User.objects.filter(pk=csm.pk).update(first_name="Q")
    assert row_version() == version
    assert CsmPortfolioLoad.objects.get(pk=csm.pk).capacity_hours == before.capacity_hours


actions = st.lists(
    st.tuples(
        st.sampled_from(["join", "leave", "other_group", "deactivate", "activate", "capacity", "delete"]),
        st.integers(0, 4),
        st.sampled_from([Decimal("0"), Decimal("7.5"), Decimal("40")]),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=actions)
def test_any_sequence_of_writes_keeps_the_team_exact(plan: list[tuple[str, int, Decimal]]) -> None:
    with transaction.atomic():
        csm_group = Group.objects.get(name=roles.CSM)
        ae_group = Group.objects.get(name=roles.ACCOUNT_EXECUTIVE)
        people = [
            UserFactory(username=f"p{i}", role=roles.CSM if i % 2 else None, is_active=i != 3)
            for i in range(5)
        ]
        for action, index, hours in plan:
            person = people[index]
            if not User.objects.filter(pk=person.pk).exists():
                continue
            if action == "join":
                person.groups.add(csm_group)
            elif action == "leave":
                person.groups.remove(csm_group)
            elif action == "other_group":
                person.groups.add(ae_group)
            elif action in ("deactivate", "activate"):
                User.objects.filter(pk=person.pk).update(is_active=action == "activate")
            elif action == "capacity":
                User.objects.filter(pk=person.pk).update(weekly_capacity_hours=hours)
            else:
                person.delete()
            assert _kept() == _live()
        # The panel counts the team the database keeps.
        assert team_capacity().csms == len(_live())
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writes_to_one_user_leave_the_team_exact() -> None:
    """One transaction adds a user to the CSM group; meanwhile another changes their capacity.
    Without the sync's lock on the user, the second could not see the first's membership (so it
    writes nothing) and the first could not see the new capacity: the kept row would say 40 h."""
    person = UserFactory(username="contested", weekly_capacity_hours=Decimal("40"))
    # A transactional test may follow another that emptied the tables the role migration filled.
    csm_group, _ = Group.objects.get_or_create(name=roles.CSM)
    joined = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def join_the_team() -> None:
        try:
            with transaction.atomic():
                person.groups.add(csm_group)
                joined.set()
                release.wait(timeout=10)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    def change_capacity() -> None:
        try:
            User.objects.filter(pk=person.pk).update(weekly_capacity_hours=Decimal("20"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=join_the_team)
    first.start()
    assert joined.wait(timeout=10)
    second = threading.Thread(target=change_capacity)
    second.start()
    second.join(timeout=1)
    assert second.is_alive()  # it waits for the first transaction's lock on the user
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert not errors
    assert _kept() == _live() == {person.pk: Decimal("20")}


@pytest.mark.django_db
def test_the_portfolio_refresh_keeps_the_capacity_and_empties_a_left_portfolio() -> None:
    """The refresh writes each CSM's minutes into the same rows: a CSM's capacity survives it, and
    a CSM whose accounts all left keeps their row (0 minutes), so the panel still counts them."""
    ada = UserFactory(username="ada-r", role=roles.CSM, weekly_capacity_hours=Decimal("30"))
    bo = UserFactory(username="bo-r", role=roles.CSM, weekly_capacity_hours=Decimal("20"))
    accounts = [tiered_account("MM1", csm=ada) for _ in range(3)]
    csm_portfolio_refresh()
    ada_row = CsmPortfolioLoad.objects.get(pk=ada.pk)
    assert ada_row.weekly_minutes > 0 and ada_row.capacity_hours == Decimal("30")
    assert CsmPortfolioLoad.objects.get(pk=bo.pk).weekly_minutes == 0

    for account in accounts:
        account.csm = bo
        account.save()
    csm_portfolio_refresh(csm_ids=[ada.pk])
    ada_row.refresh_from_db()
    assert (ada_row.weekly_minutes, ada_row.capacity_hours) == (0, Decimal("30"))
    csm_portfolio_refresh(csm_ids=[bo.pk])
    bo_row = CsmPortfolioLoad.objects.get(pk=bo.pk)
    assert bo_row.weekly_minutes > 0 and bo_row.capacity_hours == Decimal("20")
    assert _kept() == _live()
    assert team_capacity().csms == 2
