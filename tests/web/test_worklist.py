"""The CSM worklist: priority order with why, filters, capacity, permissions, query budget."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from engagement.models import Flag, FlagKind
from engagement.worklist.selectors import worklist_tiers
from tests.factories import AccountFactory
from tests.security.html_checks import inline_script_problems

pytestmark = pytest.mark.django_db


def _flag(account, kind=FlagKind.USAGE_DROP):
    now = timezone.now()
    return Flag.objects.create(
        account=account,
        kind=kind,
        explanation="Active users fell 40% in 4 weeks",
        raised_at=now,
        expires_at=now + dt.timedelta(days=30),
    )


def test_worklist_is_the_csm_home_in_priority_order_with_why(alice, signed_in):
    calm = AccountFactory(
        name="Calm Co",
        csm=alice,
        renewal_date=dt.date.today() + dt.timedelta(days=300),
        contract_start=dt.date.today() - dt.timedelta(days=60),
    )
    flagged = AccountFactory(name="Falling Co", csm=alice)
    _flag(flagged)
    renewing = AccountFactory(
        name="Renewing Co",
        csm=alice,
        contract_start=dt.date.today() - dt.timedelta(days=300),
        renewal_date=dt.date.today() + dt.timedelta(days=21),
    )
    response = signed_in(alice).get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "My worklist" in body
    assert body.index("Falling Co") < body.index("Renewing Co") < body.index("Calm Co")
    assert "Usage drop" in body
    assert "Renews in 21 days" in body
    assert inline_script_problems(body) == []
    assert calm.name in body and renewing.name in body


def test_worklist_filters_by_flag_and_search(alice, signed_in, htmx_headers):
    _flag(AccountFactory(name="Falling Co", csm=alice))
    AccountFactory(name="Calm Co", csm=alice)
    client = signed_in(alice)
    body = client.get("/worklist/", {"flag": "usage_drop"}, headers=htmx_headers).content.decode()
    assert "Falling Co" in body and "Calm Co" not in body
    assert "<html" not in body
    body = client.get("/", {"q": "calm"}).content.decode()
    assert "Calm Co" in body and "Falling Co" not in body


def test_worklist_shows_only_own_accounts(alice, bob, signed_in):
    AccountFactory(name="Bob Co", csm=bob)
    AccountFactory(name="Alice Co", csm=alice)
    body = signed_in(alice).get("/").content.decode()
    assert "Alice Co" in body and "Bob Co" not in body


def test_capacity_and_coverage_are_at_the_top(alice, signed_in, htmx_headers, django_assert_max_num_queries):
    alice.weekly_capacity_hours = Decimal("30")
    alice.save()
    AccountFactory.create_batch(
        5, csm=alice, acv=Decimal("80000"), tier_code="ENT", tier_name="Enterprise", tier_rank=1
    )
    client = signed_in(alice)
    page = client.get("/").content.decode()
    assert 'hx-get="/worklist/capacity/"' in page
    with django_assert_max_num_queries(12):
        response = client.get("/worklist/capacity/", headers=htmx_headers)
    body = response.content.decode()
    assert "of 30 h / week" in body and "5 accounts" in body
    assert "Coverage on time" in body


def test_ae_cannot_open_the_worklist(tom, signed_in):
    assert signed_in(tom).get("/worklist/").status_code == 403


def test_worklist_query_budget_with_500_accounts(alice, signed_in, django_assert_max_num_queries):
    AccountFactory.create_batch(500, csm=alice)
    for account in AccountFactory._meta.model.objects.filter(csm=alice)[:20]:
        _flag(account)
    client = signed_in(alice)
    with django_assert_max_num_queries(12):
        response = client.get("/")
    assert response.status_code == 200
    assert response.content.decode().count('id="worklist-row-') == 25


def _task(account, **kwargs):
    from engagement.models import Task

    return Task.objects.create(
        account=account,
        assignee=account.csm,
        title=kwargs.pop("title", "Kickoff call"),
        due_on=kwargs.pop("due_on", dt.date.today() - dt.timedelta(days=2)),
        **kwargs,
    )


def test_log_touchpoint_inline_returns_the_updated_row(alice, signed_in, htmx_headers):
    account = AccountFactory(name="Globex", csm=alice)
    client = signed_in(alice)
    form = client.get(f"/accounts/{account.id}/touchpoints/new/?from=worklist", headers=htmx_headers)
    assert form.status_code == 200 and "<html" not in form.content.decode()
    response = client.post(
        f"/accounts/{account.id}/touchpoints/new/",
        {
            "kind": "call",
            "occurred_at": dt.date.today().isoformat() + "T10:00",
            "minutes": 30,
            "from": "worklist",
        },
        headers=htmx_headers,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="worklist-row-{account.id}"' in body and "row-updated" in body
    assert "Last touch: " + dt.date.today().isoformat() in body
    assert "closeDialog" in response["HX-Trigger"]
    assert account.touchpoints.count() == 1


def test_touchpoint_errors_are_shown_next_to_the_fields(alice, signed_in, htmx_headers):
    account = AccountFactory(csm=alice)
    response = signed_in(alice).post(
        f"/accounts/{account.id}/touchpoints/new/",
        {"kind": "smoke-signal", "occurred_at": "2999-01-01T10:00", "minutes": -5, "from": "worklist"},
        headers=htmx_headers,
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#app-dialog-body"
    assert 'id="id_kind_error"' in body and 'id="id_minutes_error"' in body
    assert account.touchpoints.count() == 0


def test_touchpoint_service_rule_errors_come_back_per_field(alice, signed_in, htmx_headers):
    account = AccountFactory(csm=alice)
    response = signed_in(alice).post(
        f"/accounts/{account.id}/touchpoints/new/",
        {"kind": "call", "occurred_at": "2099-01-01T10:00", "minutes": 5},
        headers=htmx_headers,
    )
    assert response.status_code == 422
    assert "later than tomorrow" in response.content.decode()


def test_cannot_log_touchpoint_on_another_csms_account(alice, bob, signed_in):
    account = AccountFactory(csm=bob)
    response = signed_in(alice).post(
        f"/accounts/{account.id}/touchpoints/new/",
        {"kind": "call", "occurred_at": "2026-01-01T10:00", "minutes": 5},
    )
    assert response.status_code == 404


def test_plain_form_post_redirects_to_the_account(alice, signed_in):
    account = AccountFactory(csm=alice)
    response = signed_in(alice).post(
        f"/accounts/{account.id}/touchpoints/new/",
        {"kind": "call", "occurred_at": dt.date.today().isoformat() + "T09:00", "minutes": 15},
    )
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.id}/"


def test_complete_task_inline_twice_completes_once(alice, signed_in, htmx_headers):
    account = AccountFactory(csm=alice)
    task = _task(account)
    client = signed_in(alice)
    first = client.post(f"/tasks/{task.id}/complete/", {"from": "worklist"}, headers=htmx_headers)
    second = client.post(f"/tasks/{task.id}/complete/", {"from": "worklist"}, headers=htmx_headers)
    assert first.status_code == 200 and second.status_code == 200
    task.refresh_from_db()
    assert task.status == "done"
    assert "Kickoff call" not in second.content.decode()


def test_completing_a_cancelled_task_is_a_conflict_with_a_message(alice, signed_in, htmx_headers):
    task = _task(AccountFactory(csm=alice), status="cancelled")
    response = signed_in(alice).post(f"/tasks/{task.id}/complete/", headers=htmx_headers)
    assert response.status_code == 409
    assert "cancelled" in response.content.decode()


def test_snooze_needs_a_reason_and_a_future_day(alice, signed_in, htmx_headers):
    task = _task(AccountFactory(csm=alice))
    client = signed_in(alice)
    bad = client.post(
        f"/tasks/{task.id}/snooze/", {"until": "2020-01-01", "reason": ""}, headers=htmx_headers
    )
    assert bad.status_code == 422 and 'id="id_reason_error"' in bad.content.decode()
    good = client.post(
        f"/tasks/{task.id}/snooze/",
        {
            "until": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
            "reason": "Customer on holiday",
            "from": "worklist",
        },
        headers=htmx_headers,
    )
    assert good.status_code == 200
    task.refresh_from_db()
    assert task.snoozed_until == dt.date.today() + dt.timedelta(days=7)


def test_other_csms_task_is_404(alice, bob, signed_in):
    task = _task(AccountFactory(csm=bob))
    assert signed_in(alice).post(f"/tasks/{task.id}/complete/").status_code == 404


def _tier_options(html: str) -> list[str]:
    select = re.search(r'<select name="tier"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the tier filter is on the page"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_tier_filter_offers_every_tier_of_the_portfolio_whatever_narrows_the_page(alice, bob, signed_in):
    """The tier choices come with the page's rows when the page shows the whole (searched)
    portfolio, and from their own query otherwise: both give the same choices."""
    AccountFactory(name="Big One", csm=alice, tier_code="ENT", tier_name="Enterprise", tier_rank=1)
    AccountFactory(
        name="Mid One",
        csm=alice,
        tier_code="MM1",
        tier_name="Mid-Market 1",
        tier_rank=2,
        lifecycle_stage="mature",
    )
    AccountFactory(name="Fresh One", csm=alice, tier_code="", tier_name="", tier_rank=0)
    AccountFactory(name="Not Hers", csm=bob, tier_code="SMB", tier_name="Small", tier_rank=3)
    # A full first page in name order, and a tier held only by an account on the second.
    AccountFactory.create_batch(25, csm=alice, tier_code="MM1", tier_name="Mid-Market 1", tier_rank=2)
    AccountFactory(name="Zeta Last", csm=alice, tier_code="MM3", tier_name="Mid-Market 3", tier_rank=4)
    everything = ["", "ENT", "MM1", "MM3", "none"]
    cases = {
        "/worklist/": everything,  # with the rows
        "/worklist/?order=name": everything,  # MM3 is not on this page, but in the portfolio
        "/worklist/?lifecycle=mature": everything,  # the page narrowed, the choices not
        "/worklist/?tier=MM1": everything,
        "/worklist/?page=40": everything,  # past the last page: no row to carry them
        "/worklist/?q=Big": ["", "ENT", "none"],  # a search narrows both
    }
    for url, expected in cases.items():
        response = signed_in(alice).get(url)
        assert response.status_code == 200, url
        assert _tier_options(response.content.decode()) == expected, url
    assert [code for code, _ in worklist_tiers(csm=alice)] == ["ENT", "MM1", "MM3"]
