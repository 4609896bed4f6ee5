"""The CSM worklist: priority order with why, filters, capacity, permissions, query budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from engagement.models import Flag, FlagKind
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
    assert "renewal in 21 days" in body
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


def test_capacity_and_coverage_are_at_the_top(alice, signed_in):
    alice.weekly_capacity_hours = Decimal("30")
    alice.save()
    AccountFactory(csm=alice)
    body = signed_in(alice).get("/").content.decode()
    assert "Capacity" in body and "of 30 h / week" in body
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
    assert response.content.decode().count('id="worklist-row-') == 50
