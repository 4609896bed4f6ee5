"""API tokens: issued by a command (key shown once, only the hash stored), read-only, revoked."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from csplatform.models import ApiToken, hash_token_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def issue(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_command_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(ivan):
    out, _ = issue("ivan")
    key = out.strip().splitlines()[-1]
    assert len(key) >= 40
    assert " " not in key
    token = ApiToken.objects.get(user=ivan)
    assert token.key_hash == hash_token_key(key)
    assert key not in (token.key_hash, token.prefix)
    assert token.read_only is False
    assert client_with(key).get("/api/v1/accounts/").status_code == 200


def test_each_issue_gives_a_new_key(ivan):
    first = issue("ivan")[0].strip().splitlines()[-1]
    second = issue("ivan")[0].strip().splitlines()[-1]
    assert first != second
    assert ApiToken.objects.filter(user=ivan).count() == 2


def test_a_read_only_token_from_the_command_may_only_read(ivan):
    key = issue("ivan", "--read-only")[0].strip().splitlines()[-1]
    assert ApiToken.objects.get(user=ivan).read_only is True
    client = client_with(key)
    assert client.get("/api/v1/accounts/").status_code == 200
    response = client.post("/api/v1/accounts/sync/", {"crm_source": "x", "records": []}, format="json")
    assert response.status_code == 403


def test_an_unknown_user_is_a_command_error(db):
    with pytest.raises(CommandError, match="nobody"):
        issue("nobody")
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(db):
    UserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError):
        issue("gone")


def test_a_revoked_token_is_refused(ivan):
    from csplatform.services import api_tokens_revoke

    key = issue("ivan")[0].strip().splitlines()[-1]
    api_tokens_revoke(tokens=ApiToken.objects.filter(user=ivan))
    assert client_with(key).get("/api/v1/accounts/").status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(ivan):
    key = issue("ivan")[0].strip().splitlines()[-1]
    ivan.is_active = False
    ivan.save()
    assert client_with(key).get("/api/v1/accounts/").status_code == 401


def test_tokens_record_when_they_were_last_used(ivan):
    key = issue("ivan")[0].strip().splitlines()[-1]
    assert ApiToken.objects.get(user=ivan).last_used_at is None
    client_with(key).get("/api/v1/accounts/")
    assert ApiToken.objects.get(user=ivan).last_used_at is not None


def test_admin_issues_a_token_and_shows_the_key_once(client, ivan):
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.post(
        "/admin/csplatform/apitoken/add/", {"user": ivan.pk, "read_only": "on"}, follow=True
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=ivan)
    shown = [str(m) for m in response.context["messages"]]
    key = next(m for m in shown if "new key" in m).split("The new key is ")[1].split(" ")[0]
    assert hash_token_key(key) == token.key_hash
    assert token.read_only is True
    page = client.get(f"/admin/csplatform/apitoken/{token.pk}/change/").content.decode()
    assert key not in page


def test_admin_revokes_tokens(client, ivan):
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(operator)
    key = issue("ivan")[0].strip().splitlines()[-1]
    token = ApiToken.objects.get(user=ivan)
    response = client.post(
        "/admin/csplatform/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client_with(key).get("/api/v1/accounts/").status_code == 401


def test_the_user_admin_shows_roles_and_capacity(client, alice):
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(operator)
    page = client.get("/admin/csplatform/user/").content.decode()
    assert "alice" in page
    assert "CSM" in page
    assert client.get(f"/admin/csplatform/user/{alice.pk}/change/").status_code == 200
