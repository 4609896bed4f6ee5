"""The worklist's sortable columns: the order is in the address (links pushed to the history), the
headers say the order now, a sort that does not exist shows the default order and says so, and
the page reads the same number of queries whatever the portfolio's size."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from csplatform.models import SavedView
from engagement.models import Flag, FlagKind
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr id="worklist-row-(\d+)"')


def _flag(account, kind=FlagKind.USAGE_DROP):
    now = timezone.now()
    return Flag.objects.create(
        account=account, kind=kind, explanation="x", raised_at=now, expires_at=now + dt.timedelta(days=30)
    )


@pytest.fixture
def portfolio(alice):
    """Four accounts whose orders all differ: by priority, name, ACV and tier."""
    far = dt.date.today() + dt.timedelta(days=300)
    accounts = {
        "Bravo": AccountFactory(
            name="Bravo", csm=alice, acv=Decimal("90000"), tier_code="ENT", tier_rank=1, renewal_date=far
        ),
        "Delta": AccountFactory(
            name="Delta", csm=alice, acv=Decimal("10000"), tier_code="MM3", tier_rank=4, renewal_date=far
        ),
        "Alpha": AccountFactory(
            name="Alpha", csm=alice, acv=Decimal("40000"), tier_code="MM2", tier_rank=3, renewal_date=far
        ),
        "Charlie": AccountFactory(
            name="Charlie", csm=alice, acv=Decimal("60000"), tier_code="MM1", tier_rank=2, renewal_date=far
        ),
    }
    _flag(accounts["Delta"])  # Delta 35 + 5; Bravo 20; Charlie 15; Alpha 10
    return accounts


def _header(body: str, th_attributes: str, link_query: str) -> bool:
    """Whether a column header with these attributes holds the sort link to ``?<link_query>``."""
    pattern = rf'<th scope="col"{th_attributes}>\s*<a class="sort-link" href="\?{re.escape(link_query)}"'
    return re.search(pattern, body) is not None


def _names(body: str, portfolio: dict) -> list[str]:
    by_id = {str(a.pk): name for name, a in portfolio.items()}
    return [by_id[pk] for pk in ROW.findall(body)]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (None, ["Delta", "Bravo", "Charlie", "Alpha"]),
        ("priority", ["Delta", "Bravo", "Charlie", "Alpha"]),
        ("-priority", ["Alpha", "Charlie", "Bravo", "Delta"]),
        ("name", ["Alpha", "Bravo", "Charlie", "Delta"]),
        ("-name", ["Delta", "Charlie", "Bravo", "Alpha"]),
        ("acv", ["Delta", "Alpha", "Charlie", "Bravo"]),
        ("-acv", ["Bravo", "Charlie", "Alpha", "Delta"]),
        ("tier", ["Bravo", "Charlie", "Alpha", "Delta"]),
        ("-tier", ["Delta", "Alpha", "Charlie", "Bravo"]),
    ],
)
def test_the_worklist_sorts_by_the_order_in_its_address(alice, signed_in, portfolio, order, expected):
    response = signed_in(alice).get("/worklist/", {"order": order} if order else {})
    assert response.status_code == 200
    assert _names(response.content.decode(), portfolio) == expected


def test_a_header_link_sorts_ascending_then_descending_and_says_so(alice, signed_in, htmx_headers, portfolio):
    client = signed_in(alice)
    page = client.get("/worklist/", {"flag": "", "q": ""}).content.decode()
    # Default: priority, announced on its header; every header is a link (keyboard reachable)
    # that pushes its address to the history.
    assert re.search(
        r'<th scope="col" aria-sort="ascending">\s*<a class="sort-link" href="\?order=-priority"', page
    )
    assert (
        '<a class="sort-link" href="?order=acv" hx-get="?order=acv" hx-target="#worklist-results" '
        'hx-push-url="true">ACV' in page
    )

    fragment = client.get("/worklist/", {"order": "acv"}, headers=htmx_headers).content.decode()
    assert "<html" not in fragment
    assert _names(fragment, portfolio) == ["Delta", "Alpha", "Charlie", "Bravo"]
    assert re.search(
        r'<th scope="col" class="num" aria-sort="ascending">\s*<a class="sort-link" href="\?order=-acv"',
        fragment,
    )

    fragment = client.get("/worklist/", {"order": "-acv"}, headers=htmx_headers).content.decode()
    assert re.search(
        r'<th scope="col" class="num" aria-sort="descending">\s*<a class="sort-link" href="\?order=acv"',
        fragment,
    )
    assert fragment.count("aria-sort=") == 1


def test_the_sort_survives_filters_pages_and_saved_views(alice, signed_in, htmx_headers):
    for i in range(30):
        AccountFactory(
            name=f"Account {i:02d}", csm=alice, acv=Decimal(1000 + i), tier_code="MM2", tier_rank=3
        )
    client = signed_in(alice)
    first = client.get("/worklist/", {"order": "-acv", "tier": "MM2"}).content.decode()
    assert first.index("Account 29") < first.index("Account 28")
    assert "Account 04" not in first  # 30 accounts, 25 a page
    # The pager and the header links keep the order with the filters.
    assert "?tier=MM2&amp;order=-acv&amp;page=2" in first
    assert 'href="?tier=MM2&amp;order=name"' in first
    second = client.get("/worklist/", {"order": "-acv", "tier": "MM2", "page": 2}).content.decode()
    assert second.index("Account 04") < second.index("Account 00")
    # Saving the view saves the order; opening it sorts again.
    assert 'name="query" value="tier=MM2&amp;order=-acv"' in first
    client.post(
        "/saved-views/",
        {"page": "worklist", "name": "Biggest", "query": "tier=MM2&order=-acv"},
        headers=htmx_headers,
    )
    assert SavedView.objects.get(user=alice).query == "tier=MM2&order=-acv"
    again = client.get("/worklist/", {"tier": "MM2", "order": "-acv"}).content.decode()
    assert 'aria-current="true">Biggest</a>' in again


def test_a_sort_that_does_not_exist_shows_the_default_order_and_says_so(alice, signed_in, portfolio):
    response = signed_in(alice).get("/worklist/", {"order": "health; drop table"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="invalid-filters"' in body and "<strong>order:</strong>" in body
    assert _names(body, portfolio) == ["Delta", "Bravo", "Charlie", "Alpha"]


def test_the_accounts_list_still_sorts_by_its_headers(alice, signed_in, portfolio):
    body = signed_in(alice).get("/accounts/", {"order": "-acv"}).content.decode()
    assert body.index("Bravo") < body.index("Charlie") < body.index("Alpha") < body.index("Delta")
    assert 'hx-target="#account-results"' in body


@pytest.mark.parametrize("size", [5, 500])
def test_the_worklist_reads_the_same_queries_whatever_the_portfolio_size(
    alice, signed_in, django_assert_num_queries, size
):
    accounts = AccountFactory.create_batch(size, csm=alice, tier_code="MM2", tier_rank=3)
    for account in accounts[::5]:
        _flag(account)
    client = signed_in(alice)
    client.get("/")  # per-process caches
    # Session, the person with their roles, the page (scores, counts, rows' actions, the tiers of the
    # filter), the saved views.
    with django_assert_num_queries(4):
        response = client.get("/", {"order": "-priority"})
    assert response.status_code == 200
    assert response.content.decode().count('id="worklist-row-') == min(size, 25)
