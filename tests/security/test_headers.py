"""Security headers on pages: strict CSP (no inline scripts), framing, sniffing, referrer."""

from __future__ import annotations

import pytest

from tests.security.html_checks import assert_strict_csp, inline_script_problems


def test_the_checker_finds_inline_scripts_and_handlers():
    html = (
        '<script>alert(1)</script><script type="application/json" id="d">{}</script>'
        '<script src="/static/js/app.js"></script><a href="javascript:x()" onclick="y()">z</a>'
        '<button hx-on:click="z()">b</button>'
    )
    problems = inline_script_problems(html)
    assert len(problems) == 4, problems


@pytest.mark.django_db
def test_login_page_has_strict_csp_and_no_inline_script(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert_strict_csp(response)
    assert inline_script_problems(response.content.decode()) == []


def test_signed_in_home_has_strict_csp_and_no_inline_script(client, alice):
    client.force_login(alice)
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert_strict_csp(response)
    assert inline_script_problems(response.content.decode()) == []


@pytest.mark.django_db
def test_pages_forbid_framing_and_sniffing_and_keep_the_referrer_on_site(client):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert response.status_code == 302
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
