"""The header's global search: accounts and contacts the person may see, in a fixed number of queries."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_a_csm_finds_own_accounts_and_contacts_and_nothing_of_another_book(alice, bob, signed_in):
    mine = AccountFactory(name="Globex Retail", csm=alice)
    ContactFactory(account=mine, name="Hana Globe", email="hana@globex.example")
    theirs = AccountFactory(name="Globex Travel", csm=bob)
    ContactFactory(account=theirs, name="Gloria Other", email="gloria@travel.example")

    page = signed_in(alice).get("/search/", {"q": "glob"}).content.decode()

    assert "Globex Retail" in page and "Hana Globe" in page
    assert "Globex Travel" not in page and "Gloria Other" not in page


def test_typing_answers_a_short_list_of_suggestions(alice, signed_in, htmx_headers):
    AccountFactory.create_batch(9, name="Initech Branch", csm=alice)
    body = signed_in(alice).get("/search/", {"q": "initech"}, headers=htmx_headers).content.decode()
    assert "<html" not in body
    assert body.count('role="option" href="/accounts/') == 6
    assert 'href="/search/?q=initech"' in body


def test_one_letter_searches_nothing(alice, signed_in, django_assert_max_num_queries):
    AccountFactory(name="Acme", csm=alice)
    client = signed_in(alice)
    client.get("/")
    with django_assert_max_num_queries(6):
        page = client.get("/search/", {"q": "a"}).content.decode()
    assert "Type at least two characters" in page


def test_search_costs_the_same_number_of_queries_whatever_the_book(
    alice, signed_in, django_assert_num_queries
):
    client = signed_in(alice)
    for account in AccountFactory.create_batch(2, name="Umbrella Co", csm=alice):
        ContactFactory(account=account, name="Umbrella Person")
    client.get("/search/", {"q": "umbrella"})
    with django_assert_num_queries(4) as small:
        client.get("/search/", {"q": "umbrella"})
    for account in AccountFactory.create_batch(40, name="Umbrella Co", csm=alice):
        ContactFactory(account=account, name="Umbrella Person")
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/search/", {"q": "umbrella"})
