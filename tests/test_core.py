import pytest

pytestmark = pytest.mark.django_db


def test_health_answers_200_when_database_and_broker_answer(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "broker": True}


def test_pages_need_a_signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_roles_exist_after_migrations():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "CSM",
        "Account Executive",
        "CS Leadership",
        "Integration",
    }


def test_api_docs_send_a_browser_visitor_to_sign_in_and_answer_401_to_a_bad_token(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/api/docs/"

    assert client.get("/api/docs/", HTTP_AUTHORIZATION="Token not-a-key").status_code == 401


def test_api_docs_are_served_offline_to_a_signed_in_person(client, alice):
    client.force_login(alice)
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()


def test_api_docs_run_under_the_strict_csp_with_no_inline_script_or_style(client, alice):
    import re

    client.force_login(alice)
    response = client.get("/api/docs/")
    page = response.content.decode()
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert re.search(r"<script>|<style", page) is None, "inline code is blocked by the CSP"
    script = re.search(r'<script src="([^"]+script=[^"]*)"', page)
    assert script is not None
    start = client.get(script.group(1).replace("&amp;", "&"))
    assert start.status_code == 200
    assert start["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in start.content.decode()


def test_read_only_pages_refuse_post(client, lena, alice):
    from tests.factories import AccountFactory

    account = AccountFactory(csm=alice)
    client.force_login(lena)
    for path in ("/accounts/", f"/accounts/{account.pk}/", "/accounts/export.csv"):
        assert client.post(path).status_code == 405, path
        assert client.get(path).status_code == 200, path
