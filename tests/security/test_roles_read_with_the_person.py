"""Every request reads the signed-in person (session or API token) with their roles in one query;
a role given or taken away applies from the next request on, never from a cache across requests."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from csplatform import roles
from csplatform.services import api_token_issue
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _membership_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if "csplatform_user_groups" in q["sql"]]


def test_a_page_reads_the_person_and_their_roles_in_one_query(alice, django_assert_max_num_queries):
    AccountFactory(csm=alice)
    client = Client()
    client.force_login(alice)
    client.get("/worklist/")
    with django_assert_max_num_queries(10) as captured:
        response = client.get("/worklist/")
    assert response.status_code == 200
    membership = _membership_queries(captured.captured_queries)
    assert len(membership) == 1, membership
    assert '"csplatform_user"."password"' in membership[0]  # the person's own row, not a second query


def test_a_role_taken_away_applies_on_the_next_page(alice):
    client = Client()
    client.force_login(alice)
    assert client.get("/worklist/").status_code == 200
    alice.groups.remove(Group.objects.get(name=roles.CSM))
    assert client.get("/worklist/").status_code == 403
    alice.groups.add(Group.objects.get(name=roles.CSM))
    assert client.get("/worklist/").status_code == 200


def test_a_person_without_any_role_holds_none():
    nobody = UserFactory(username="nobody")
    nobody.groups.clear()
    client = Client()
    client.force_login(nobody)
    response = client.get("/worklist/")
    assert response.status_code == 403
    # The membership's outer join gives [None] for no group: that is no role, not a role "None".
    assert response.wsgi_request.user.pk == nobody.pk
    assert roles.role_names(response.wsgi_request.user) == frozenset()


def test_an_api_token_reads_its_person_with_their_roles_and_a_removed_role_applies_at_once(
    ivan, django_assert_max_num_queries
):
    _, key = api_token_issue(user=ivan)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/accounts/").status_code == 200
    with django_assert_max_num_queries(10) as captured:
        assert client.get("/api/v1/accounts/").status_code == 200
    membership = _membership_queries(captured.captured_queries)
    assert len(membership) == 1, membership
    assert "csplatform_apitoken" in membership[0]
    ivan.groups.clear()
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 403
    assert "no role" in response.json()["detail"]
