"""The worklist selector: priority order with reasons, in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from engagement.coverage.services import coverage_recompute, module_delivery_record
from engagement.worklist.selectors import accounts_for_worklist
from tests.engagement.factories import CommitmentFactory, FlagFactory, TaskFactory, tiered_account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_accounts_are_ordered_by_what_needs_attention_with_reasons(alice, bob, frozen_now) -> None:
    today = frozen_now.date()
    tiered_account("MM3", csm=alice, name="Calm", renewal_date=dt.date(2027, 9, 1))
    overdue = tiered_account(
        "MM1", csm=alice, name="Overdue", tiered_on=dt.date(2026, 1, 1), renewal_date=dt.date(2027, 9, 1)
    )
    flagged = tiered_account("MM3", csm=alice, name="Flagged", renewal_date=dt.date(2027, 9, 1))
    tiered_account("MM3", csm=alice, name="Renewing", renewal_date=today + dt.timedelta(days=20))
    promised = tiered_account("MM3", csm=alice, name="Promised", renewal_date=dt.date(2027, 9, 1))
    tiered_account("MM3", csm=bob, name="Not mine")
    module_delivery_record(
        account_id=overdue.pk, module_code="qbr", delivered_at=frozen_now, source="manual", source_id=1
    )
    coverage_recompute()  # catch-up every 30 days, never delivered since January: overdue
    FlagFactory(account=flagged, kind="champion_left")
    CommitmentFactory(account=promised)
    TaskFactory(account=promised, due_on=today - dt.timedelta(days=1))
    entries = accounts_for_worklist(csm=alice, today=today)
    names = [e.account.name for e in entries]
    # Scores: Overdue 30 + 30 (days, capped) + 15 (MM1) = 75; Flagged 35 + 5 = 40;
    # Renewing 30 + 5 = 35; Promised 15 + 10 + 5 = 30; Calm 5 (MM3 rank only).
    assert [e.score for e in entries] == [75, 40, 35, 30, 5]
    assert names == ["Overdue", "Flagged", "Renewing", "Promised", "Calm"]
    reasons = {e.account.name: e.reasons for e in entries}
    assert reasons["Overdue"] == ["1 entitlement overdue (oldest by 295 days)"]
    assert reasons["Flagged"] == ["Flag: Champion left"]
    assert reasons["Renewing"] == ["Renews in 20 days"]
    assert reasons["Promised"] == ["1 AE commitment(s) beyond the tier", "1 overdue task(s)"]
    assert reasons["Calm"] == []
    assert [e.account.name for e in accounts_for_worklist(csm=alice, today=today, needs_attention=True)][
        -1
    ] == "Promised"
    assert [
        e.account.name for e in accounts_for_worklist(csm=alice, flag_kind="champion_left", today=today)
    ] == ["Flagged"]
    assert [e.account.name for e in accounts_for_worklist(csm=alice, tier_code="MM1", today=today)] == [
        "Overdue"
    ]


def build_portfolio(csm, size: int) -> None:
    accounts = AccountFactory.create_batch(size, csm=csm, tier_code="MM2", tier_rank=3)
    for account in accounts[::5]:
        FlagFactory(account=account)
        TaskFactory(account=account, due_on=dt.date(2026, 1, 1))
        CommitmentFactory(account=account)
    coverage_recompute()


@pytest.mark.parametrize("size", [5, 500])
def test_the_worklist_takes_a_constant_number_of_queries(
    alice, frozen_now, django_assert_max_num_queries, size
) -> None:
    build_portfolio(alice, size)
    alice.refresh_from_db()
    with django_assert_max_num_queries(10):
        entries = accounts_for_worklist(csm=alice)
        assert len(entries) == size
        assert all(entry.reasons for entry in entries[: size // 5])


def test_the_worklist_endpoint(api_client, alice, bob, tom, lena, frozen_now) -> None:
    tiered_account("MM1", csm=alice, name="Mine")
    tiered_account("MM1", csm=bob, name="Bob's")
    api_client.force_authenticate(alice)
    assert [row["name"] for row in api_client.get(reverse("api:worklist")).json()] == ["Mine"]
    api_client.force_authenticate(lena)
    assert [row["name"] for row in api_client.get(reverse("api:worklist"), {"csm": "bob"}).json()] == [
        "Bob's"
    ]
    api_client.force_authenticate(tom)
    assert api_client.get(reverse("api:worklist")).status_code == 403
