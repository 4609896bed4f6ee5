"""Login throttling (django-axes): repeated failures through /login/ lock the attacker out.

Behind a reverse proxy (``NUM_PROXIES``) the client address is the one the proxy appended to
``X-Forwarded-For``; addresses a client writes into the header itself do not change who it is.
"""

from __future__ import annotations

import pytest

from csplatform.models import User

LOGIN = "/login/"
PASSWORD = "correct-horse-battery"  # UserFactory's password


@pytest.fixture
def behind_one_proxy(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.NUM_PROXIES = 1


def _login(client, password: str, forwarded_for: str, username: str = "alice"):
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.2",  # the proxy
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_the_right_password_signs_in(client, alice: User, behind_one_proxy):
    response = _login(client, PASSWORD, "203.0.113.5")
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(alice.pk)


def test_after_the_failure_limit_even_the_right_password_is_refused(client, alice: User, behind_one_proxy):
    for _ in range(2):
        assert _login(client, "wrong", "203.0.113.5").status_code == 200  # the form again, with an error
    assert _login(client, "wrong", "203.0.113.5").status_code == 429  # the limit is reached
    response = _login(client, PASSWORD, "203.0.113.5")
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_spoofed_forwarded_for_entries_do_not_escape_the_lockout(client, alice: User, behind_one_proxy):
    # The client prepends a made-up address each time; the proxy appends the real one.
    for n in range(3):
        _login(client, "wrong", f"192.0.2.{n}, 203.0.113.5")
    assert _login(client, PASSWORD, "192.0.2.99, 203.0.113.5").status_code == 429


def test_the_lockout_is_per_address_so_the_real_user_elsewhere_still_signs_in(
    client, alice: User, behind_one_proxy
):
    for _ in range(3):
        _login(client, "wrong", "203.0.113.5")
    response = _login(client, PASSWORD, "198.51.100.7")
    assert response.status_code == 302
