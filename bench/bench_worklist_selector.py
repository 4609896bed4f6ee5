"""The CSM worklist selector answers in a constant number of queries, whatever the portfolio size.

A 500-account portfolio (a fifth flagged, with overdue tasks and commitments beyond the tier) is
built for a bench CSM under the throwaway CRM source ``bench-worklist``; the same selector is
also run on a 5-account portfolio: the query counts must match and stay within 10.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bench.common import Context, Result, portfolio_taken_back

ORDER = 60
GOAL_QUERIES = 10
SOURCE = "bench-worklist"


def _portfolio(username: str, size: int):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import Account
    from csplatform import roles
    from csplatform.models import User
    from engagement.models import Flag, HandoffCommitment, Task

    csm, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@bench.example"})
    csm.groups.add(Group.objects.get(name=roles.CSM))
    present = portfolio_taken_back(csm, crm_source=SOURCE, external_id_prefix=f"{username}-")
    if len(present) >= size:
        return csm
    now = timezone.now()
    accounts = Account.objects.bulk_create(
        Account(
            crm_source=SOURCE,
            external_id=f"{username}-{i}",
            name=f"Worklist {username} {i}",
            acv=Decimal(20000 + i),
            csm=csm,
            tier_code="MM2",
            tier_name="Mid-Market Tier 2",
            tier_rank=3,
            renewal_date=dt.date.today() + dt.timedelta(days=i % 200),
        )
        for i in range(size)
        if f"{username}-{i}" not in present
    )
    flagged = accounts[::5]
    Flag.objects.bulk_create(
        Flag(
            account=a,
            kind="usage_drop",
            explanation="bench",
            raised_at=now,
            expires_at=now + dt.timedelta(days=14),
        )
        for a in flagged
    )
    Task.objects.bulk_create(
        Task(account=a, assignee=csm, title="bench", due_on=dt.date(2026, 1, 1)) for a in flagged
    )
    HandoffCommitment.objects.bulk_create(
        HandoffCommitment(account=a, description="bench", status="exceeds_tier", checked_at=now)
        for a in flagged
    )
    return csm


def _queries(csm) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engagement.worklist.selectors import accounts_for_worklist

    with CaptureQueriesContext(connection) as captured:
        entries = accounts_for_worklist(csm=csm)
        assert entries and entries[0].reasons
    return len(captured.captured_queries)


def run(ctx: Context) -> list[Result]:
    big = _portfolio("bench-worklist-500", 500)
    small = _portfolio("bench-worklist-5", 5)
    queries_500 = _queries(big)
    queries_5 = _queries(small)
    with ctx.timer() as elapsed:
        _queries(big)
    return [
        Result(
            "worklist_selector_queries",
            queries_500,
            "queries",
            goal=GOAL_QUERIES,
            note=f"500 accounts; {queries_5} queries for 5 accounts; {elapsed() * 1000:.0f} ms",
        )
    ]
