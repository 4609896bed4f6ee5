import pytest

from csplatform.services import api_token_issue

pytestmark = pytest.mark.django_db


def test_an_integration_user_lands_on_their_keys_without_seeing_the_key(client, ivan):
    token, key = api_token_issue(user=ivan, read_only=True)
    client.force_login(ivan)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "CRM integration" in page
    assert f"{token.prefix}…" in page
    assert key not in page
    assert "read-only" in page


def test_another_users_keys_are_not_listed(client, ivan, lena):
    other, _ = api_token_issue(user=lena)
    client.force_login(ivan)

    page = client.get("/").content.decode()

    assert other.prefix not in page
