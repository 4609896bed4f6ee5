"""The portfolio list and the account page: who sees what, search, filters, fragments, queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from accounts.models import LifecycleStage
from tests.factories import AccountFactory, ContactFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login_and_back(client):
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/accounts/"


def test_anonymous_htmx_request_gets_hx_redirect(client, htmx_headers):
    response = client.get(
        "/accounts/", headers={**htmx_headers, "HX-Current-URL": "http://testserver/accounts/"}
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/login/?next=%2Faccounts%2F&expired=1"


def test_csm_sees_only_own_portfolio(alice, bob, signed_in):
    AccountFactory(name="Alice One", csm=alice)
    AccountFactory(name="Bob One", csm=bob)
    response = signed_in(alice).get("/accounts/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alice One" in body
    assert "Bob One" not in body


def test_leader_sees_every_account(lena, alice, bob, signed_in):
    AccountFactory(name="Alice One", csm=alice)
    AccountFactory(name="Bob One", csm=bob)
    body = signed_in(lena).get("/accounts/").content.decode()
    assert "Alice One" in body and "Bob One" in body


def test_ae_sees_own_accounts_only(tom, tina, signed_in):
    AccountFactory(name="Tom Deal", ae=tom)
    AccountFactory(name="Tina Deal", ae=tina)
    body = signed_in(tom).get("/accounts/").content.decode()
    assert "Tom Deal" in body and "Tina Deal" not in body


def test_integration_user_has_no_account_pages(ivan, signed_in):
    assert signed_in(ivan).get("/accounts/").status_code == 403


def test_search_and_filters_narrow_the_list(alice, signed_in):
    AccountFactory(name="Globex Retail", csm=alice, lifecycle_stage=LifecycleStage.MATURE)
    AccountFactory(name="Initech", csm=alice, lifecycle_stage=LifecycleStage.ONBOARDING)
    client = signed_in(alice)
    body = client.get("/accounts/", {"q": "glob"}).content.decode()
    assert "Globex Retail" in body and "Initech" not in body
    body = client.get("/accounts/", {"lifecycle": "onboarding"}).content.decode()
    assert "Initech" in body and "Globex Retail" not in body


def test_renewal_window_filter(alice, signed_in):
    today = dt.date.today()
    AccountFactory(
        name="Soon",
        csm=alice,
        contract_start=today - dt.timedelta(days=300),
        renewal_date=today + dt.timedelta(days=20),
    )
    AccountFactory(
        name="Later",
        csm=alice,
        contract_start=today - dt.timedelta(days=300),
        renewal_date=today + dt.timedelta(days=200),
    )
    body = signed_in(alice).get("/accounts/", {"renewal_within": "30"}).content.decode()
    assert "Soon" in body and "Later" not in body


def test_bad_filter_value_is_reported_not_a_500(alice, signed_in):
    response = signed_in(alice).get("/accounts/", {"renewal_within": "7 days", "page": "-3"})
    # 400: the question was not answered as asked; the page still shows the list without it.
    assert response.status_code == 400
    assert "Not understood, so not applied" in response.content.decode()


def test_a_bad_filter_is_left_out_and_marked_while_the_good_ones_still_apply(alice, signed_in):
    AccountFactory(name="Globex Retail", csm=alice, lifecycle_stage="mature")
    AccountFactory(name="Globex Travel", csm=alice, lifecycle_stage="churned")
    AccountFactory(name="Initech", csm=alice, lifecycle_stage="mature")

    response = signed_in(alice).get("/accounts/", {"q": "globex", "lifecycle": "no-such-stage"})

    body = response.content.decode()
    assert response.status_code == 400
    assert "Globex Retail" in body and "Globex Travel" in body and "Initech" not in body
    assert 'data-total="2"' in body
    assert re.search(r'<select name="lifecycle"[^>]*aria-invalid="true"', body)


def test_the_count_follows_the_filter_and_the_pager_shows_the_total(alice, signed_in, htmx_headers):
    AccountFactory.create_batch(55, csm=alice, lifecycle_stage="mature")
    AccountFactory.create_batch(3, csm=alice, lifecycle_stage="churned")
    client = signed_in(alice)

    everything = client.get("/accounts/").content.decode()
    active = client.get(
        "/accounts/", {"lifecycle": "active", "page": "2"}, headers=htmx_headers
    ).content.decode()

    assert 'data-total="58"' in everything and "Page 1 of 2 · 58 in all" in everything
    assert 'data-total="55"' in active and "Page 2 of 2 · 55 in all" in active
    assert "lifecycle=active&amp;page=1" in active, "the pager keeps the filter"


def test_columns_sort_both_ways_from_their_header(alice, signed_in):
    from decimal import Decimal

    AccountFactory(name="Small", csm=alice, acv=Decimal("1000"))
    AccountFactory(name="Large", csm=alice, acv=Decimal("90000"))
    client = signed_in(alice)

    ascending = client.get("/accounts/", {"order": "acv"}).content.decode()
    descending = client.get("/accounts/", {"order": "-acv"}).content.decode()

    assert ascending.index(">Small<") < ascending.index(">Large<")
    assert descending.index(">Large<") < descending.index(">Small<")
    assert 'aria-sort="ascending"' in ascending and 'href="?order=-acv"' in ascending


def test_the_account_list_counts_in_a_fixed_number_of_queries(alice, signed_in, django_assert_num_queries):
    client = signed_in(alice)
    AccountFactory.create_batch(3, csm=alice)
    client.get("/accounts/")
    with django_assert_num_queries(6) as few:
        client.get("/accounts/", {"lifecycle": "active"})
    AccountFactory.create_batch(60, csm=alice)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get("/accounts/", {"lifecycle": "active"})


def test_htmx_search_returns_only_the_results_fragment(alice, signed_in, htmx_headers):
    AccountFactory(name="Globex", csm=alice)
    response = signed_in(alice).get("/accounts/", {"q": "glob"}, headers=htmx_headers)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Globex" in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_pagination_without_count(alice, signed_in):
    for i in range(55):
        AccountFactory(name=f"Acct {i:03d}", csm=alice)
    client = signed_in(alice)
    first = client.get("/accounts/").content.decode()
    assert "Acct 049" in first and "Acct 050" not in first and "Next" in first
    second = client.get("/accounts/", {"page": 2}).content.decode()
    assert "Acct 050" in second and "Acct 054" in second


def test_portfolio_list_needs_few_queries(alice, signed_in, django_assert_max_num_queries):
    AccountFactory.create_batch(60, csm=alice)
    client = signed_in(alice)
    with django_assert_max_num_queries(7):
        response = client.get("/accounts/")
    assert response.status_code == 200


def test_account_page_shows_contacts_usage_and_tier(alice, signed_in):
    account = AccountFactory(
        name="Globex",
        csm=alice,
        acv=Decimal("80000"),
        tier_code="ENT",
        tier_name="Enterprise",
        tier_rank=1,
        tier_explanation="Enterprise because ACV 80,000 is at least 70,000.",
    )
    ContactFactory(account=account, name="Grace Hopper", is_champion=True)
    for week in range(3):
        UsageSnapshotFactory(
            account=account,
            period_start=dt.date(2026, 10, 5) + dt.timedelta(weeks=week),
            active_users=30 + week,
        )
    response = signed_in(alice).get(f"/accounts/{account.id}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Grace Hopper" in body and "champion" in body
    assert "Enterprise because ACV 80,000" in body
    assert 'id="chart-usage"' in body and "2026-10-19" in body


def test_other_csms_account_is_404(alice, bob, signed_in):
    account = AccountFactory(csm=bob)
    assert signed_in(alice).get(f"/accounts/{account.id}/").status_code == 404


def test_ae_opens_own_account_not_anothers(tom, tina, signed_in):
    mine = AccountFactory(ae=tom)
    theirs = AccountFactory(ae=tina)
    client = signed_in(tom)
    assert client.get(f"/accounts/{mine.id}/").status_code == 200
    assert client.get(f"/accounts/{theirs.id}/").status_code == 404
