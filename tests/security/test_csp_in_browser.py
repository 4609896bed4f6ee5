"""The real pages run under the strict CSP in a real browser: no violation, no script error.

Header checks prove the policy is sent; only a browser proves the pages work under it (htmx with
``allowEval: false`` and no injected indicator styles, charts fed from ``json_script``, no inline
style or script anywhere). Chromium reports every refused script or style on the console.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from csplatform import roles
from segmentation.services.initial_tiers import tier_assign_initial
from tests.factories import AccountFactory, ContactFactory, UsageSnapshotFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def accounts(migration_data):
    alice = UserFactory(username="alice", role=roles.CSM)
    UserFactory(username="lena", role=roles.CS_LEADERSHIP)
    tom = UserFactory(username="tom", role=roles.ACCOUNT_EXECUTIVE)
    today = dt.date.today()
    made = [
        AccountFactory(
            name=name, csm=alice, ae=tom, acv=Decimal(acv), renewal_date=today + dt.timedelta(days=30)
        )
        for name, acv in [("Globex Retail", "82000"), ("Initech Travel", "9000"), ("Umbrella Games", "27000")]
    ]
    for account in made:
        ContactFactory(account=account, is_champion=True)
        for week in range(4):
            UsageSnapshotFactory(account=account, period_start=today - dt.timedelta(weeks=4 - week))
    tier_assign_initial()
    return made


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


@pytest.mark.parametrize(
    ("username", "paths"),
    [
        ("alice", ["/", "/accounts/", "/accounts/{account}/", "/worklist/"]),
        ("lena", ["/", "/reviews/", "/policies/", "/approvals/", "/accounts/{account}/"]),
        ("tom", ["/", "/handoffs/", "/handoffs/{account}/"]),
    ],
)
def test_pages_and_their_fragments_raise_no_csp_violation(accounts, page_for, username, paths):
    page = page_for(username)
    problems = _watch(page)
    for path in paths:
        page.goto(path.format(account=accounts[0].pk))
        page.wait_for_load_state("networkidle")
    assert problems == []
