"""The decisions of ``csplatform.authorization``, person by person, and its Q scopes against them.

The people: alice (CSM) and tom (AE) own "Northwind"; bob (CSM) and tina (AE) own another
account; lena leads CS; ivan is the CRM integration; root is a superuser without a group; and
carol and terry owned Northwind too (as CSM and AE) but their roles were removed.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group

from accounts.models import Account
from csplatform import authorization, roles
from csplatform.models import User
from engagement.models import Task
from tests.engagement.factories import TaskFactory
from tests.factories import AccountFactory, UserFactory

PEOPLE = ("alice", "bob", "tom", "tina", "lena", "ivan", "root", "carol", "terry")


@pytest.fixture
def people(alice, bob, tom, tina, lena, ivan) -> dict[str, User]:
    carol = UserFactory(username="carol", role=roles.CSM)
    terry = UserFactory(username="terry", role=roles.ACCOUNT_EXECUTIVE)
    carol.groups.clear()
    terry.groups.clear()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    found = {
        "alice": alice,
        "bob": bob,
        "tom": tom,
        "tina": tina,
        "lena": lena,
        "ivan": ivan,
        "root": root,
        "carol": carol,
        "terry": terry,
    }
    # Fresh from the database, as a request would load them (roles are cached on the object).
    return {name: User.objects.get(pk=user.pk) for name, user in found.items()}


@pytest.fixture
def northwind(people) -> Account:
    return AccountFactory(name="Northwind", csm=people["alice"], ae=people["tom"])


def who(people: dict[str, User], decide) -> set[str]:
    return {name for name in PEOPLE if decide(people[name])}


def test_a_person_without_a_role_may_do_nothing(people):
    assert who(people, authorization.has_any_role) == set(PEOPLE) - {"carol", "terry"}
    person_decisions = [
        authorization.may_browse_accounts,
        authorization.may_read_accounts,
        authorization.may_create_accounts,
        authorization.may_reassign_owners,
        authorization.may_sync,
        authorization.may_request_override,
        authorization.may_keep_worklist,
        authorization.may_log_handoffs,
        authorization.may_lead,
        authorization.may_decide_approvals,
        authorization.may_manage_policies,
        authorization.may_run_reviews,
    ]
    for decide in person_decisions:
        assert not decide(people["carol"]) and not decide(people["terry"]), decide.__name__


def test_the_person_level_decisions_for_each_role(people):
    leaders = {"lena", "root"}
    assert who(people, authorization.sees_every_account) == leaders | {"ivan"}
    assert who(people, authorization.may_browse_accounts) == leaders | {"alice", "bob", "tom", "tina"}
    assert who(people, authorization.may_read_accounts) == leaders | {"ivan", "alice", "bob", "tom", "tina"}
    assert who(people, authorization.may_create_accounts) == leaders | {"ivan"}
    assert who(people, authorization.may_reassign_owners) == leaders | {"ivan"}
    assert who(people, authorization.may_sync) == {"ivan", "root"}
    assert who(people, authorization.may_request_override) == leaders | {"alice", "bob"}
    assert who(people, authorization.may_keep_worklist) == leaders | {"alice", "bob"}
    assert who(people, authorization.may_log_handoffs) == leaders | {"tom", "tina"}
    assert who(people, authorization.may_run_reviews) == leaders | {"ivan"}
    for leadership_only in (
        authorization.may_lead,
        authorization.may_decide_approvals,
        authorization.may_manage_policies,
    ):
        assert who(people, leadership_only) == leaders, leadership_only.__name__


def test_the_account_decisions_for_each_role(people, northwind):
    leaders = {"lena", "root"}

    def on_northwind(decide) -> set[str]:
        return who(people, lambda user: decide(user, northwind))

    assert on_northwind(authorization.may_see_account) == leaders | {"ivan", "alice", "tom"}
    assert on_northwind(authorization.may_edit_account) == leaders | {"ivan", "alice"}
    assert on_northwind(authorization.may_work_on) == leaders | {"alice", "tom"}
    assert on_northwind(authorization.may_do_cs_work) == leaders | {"alice"}
    assert on_northwind(authorization.may_log_commitment) == leaders | {"tom"}
    assert on_northwind(authorization.may_record_renewal) == leaders | {"alice"}


def test_a_task_is_also_its_assignees_work_while_they_hold_a_role(people, northwind):
    for name in ("bob", "tom", "carol"):
        assignee = people[name]
        allowed = authorization.may_do_cs_work(assignee, northwind, assignee_id=assignee.pk)
        assert allowed is (name != "carol"), name


def test_an_override_is_ended_by_leadership_or_its_requester_while_they_may_override(people):
    def ends(name: str, requester: str) -> bool:
        override = SimpleNamespace(requested_by_id=people[requester].pk)
        return authorization.may_end_override(people[name], override)

    assert ends("lena", "alice") and ends("alice", "alice")
    assert not ends("bob", "alice")
    assert not ends("carol", "carol")  # asked for it as a CSM, then lost the role


def test_the_scopes_give_the_rows_the_object_decisions_allow(people, northwind):
    other = AccountFactory(name="Contoso", csm=people["bob"], ae=people["tina"])
    orphan = AccountFactory(name="Nobody's", csm=None, ae=None)
    accounts = [northwind, other, orphan]
    for account in accounts:
        TaskFactory(account=account)

    def account_ids(scope) -> set[int]:
        return set(Account.objects.filter(scope).values_list("pk", flat=True))

    def task_account_ids(scope) -> set[int]:
        return set(Task.objects.filter(scope).values_list("account_id", flat=True))

    for name in PEOPLE:
        user = people[name]
        seen = {a.pk for a in accounts if authorization.may_see_account(user, a)}
        worked = {a.pk for a in accounts if authorization.may_do_cs_work(user, a)}
        assert account_ids(authorization.account_scope(user)) == seen, name
        assert task_account_ids(authorization.account_scope(user, via="account__")) == seen, name
        assert account_ids(authorization.cs_work_scope(user)) == worked, name
        assert task_account_ids(authorization.cs_work_scope(user, via="account__")) == worked, name


def test_every_combination_of_roles_scopes_accounts_like_it_decides_them(db):
    """Anyone may hold several roles: a CSM who is also an AE sees both books, nothing more."""
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ALL_ROLES)}
    person = UserFactory(username="multi")
    someone = UserFactory(username="someone-else", role=roles.CSM)
    accounts = [
        AccountFactory(csm=csm, ae=ae)
        for csm, ae in itertools.product((person, someone, None), (person, someone, None))
    ]
    for size in range(len(roles.ALL_ROLES) + 1):
        for held in itertools.combinations(roles.ALL_ROLES, size):
            person.groups.set([groups[name] for name in held])
            user = User.objects.get(pk=person.pk)
            decided = {a.pk for a in accounts if authorization.may_see_account(user, a)}
            scoped = set(
                Account.objects.filter(
                    authorization.account_scope(user), pk__in=[a.pk for a in accounts]
                ).values_list("pk", flat=True)
            )
            assert scoped == decided, held
            if not held:
                assert decided == set()
