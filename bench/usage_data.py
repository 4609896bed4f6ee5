"""Usage as dense as a real book: every account in a range gets the 26 weekly snapshots a synced
account has (``accounts.seeding.usage_weeks``), so a bench that reads usage reads all of it.

``ensure_accounts`` gives contacts and usage to at most 20,000 accounts (spread evenly); a rule
on usage over a million accounts would then read about 50 times less data than in production.
Rows are generated in one SQL statement per 100,000 accounts (deterministic per account id: a
quarter each growing, declining, steady and spiky, seats from ACV as the seeder does) and only
for accounts that have no usage yet, so the call is cheap once done.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from accounts.seeding import WEEKS_OF_USAGE, usage_weeks

CHUNK = 100_000

_INSERT = """
    INSERT INTO accounts_usagesnapshot
        (account_id, period_start, active_users, licensed_seats, feature_adoption, support_tickets,
         created_at, updated_at)
    SELECT a.id, w.period_start,
           ROUND(s.seats * LEAST(1.0, s.base_use * f.factor)),
           s.seats,
           ROUND(LEAST(1.0, s.base_adoption * (0.5 + f.factor / 2))::numeric, 3),
           FLOOR(s.tickets_per_week * (CASE WHEN s.trend IN (1, 3) THEN 2.0 ELSE 1.0 END)
                 * ((a.id * 40503 + w.n * 977) %% 100) / 60.0),
           now(), now()
    FROM accounts_account a
    CROSS JOIN LATERAL (
        SELECT GREATEST(5, LEAST(20000, (a.acv / 400)::int)) AS seats,
               (a.id %% 4)::int AS trend,
               0.35 + ((a.id * 2654435761) %% 1000) / 2000.0 AS base_use,
               0.2 + ((a.id * 40503) %% 1000) / 2000.0 AS base_adoption,
               0.3 + GREATEST(5, LEAST(20000, (a.acv / 400)::int)) / 150.0 AS tickets_per_week
    ) s
    CROSS JOIN LATERAL (
        SELECT n, %(first_week)s::date + 7 * n AS period_start FROM generate_series(0, %(weeks)s - 1) AS n
    ) w
    CROSS JOIN LATERAL (
        SELECT (CASE s.trend
                    WHEN 0 THEN 0.6 + 0.7 * w.n / (%(weeks)s - 1.0)
                    WHEN 1 THEN 1.15 - 0.75 * w.n / (%(weeks)s - 1.0)
                    WHEN 2 THEN 1.0
                    ELSE CASE WHEN (a.id + w.n * 7) %% 6 = 0 THEN 1.6 ELSE 0.75 END
                END) * (0.95 + ((a.id + w.n * 31) %% 10) / 100.0) AS factor
    ) f
    WHERE a.id BETWEEN %(low)s AND %(high)s
      AND NOT EXISTS (SELECT 1 FROM accounts_usagesnapshot u WHERE u.account_id = a.id)
"""


def ensure_full_usage(*, low: int, high: int) -> int:
    """Give every account with an id in ``[low, high]`` that has no usage its 26 weeks; returns
    how many snapshots were added."""
    weeks = usage_weeks(timezone.localdate())
    added = 0
    for start in range(low, high + 1, CHUNK):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _INSERT,
                {
                    "first_week": weeks[0],
                    "weeks": WEEKS_OF_USAGE,
                    "low": start,
                    "high": min(high, start + CHUNK - 1),
                },
            )
            added += cursor.rowcount
    if added:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_usagesnapshot")
    return added
