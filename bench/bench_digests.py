"""The daily digests of 10,000 people over a 1,000,000-account book (``digest_build_10k``).

8,000 CSMs, 1,500 AEs and 500 leaders in six time zones, all past their digest hour; the book's
accounts are spread over the CSMs and AEs; a day of events is generated once: 40,000 new-flag and
5,000 health-fall notifications, 20,000 commitment decisions, 60,000 open tasks (a third overdue),
10,000 tier proposals. The figure is one full ``digests_send``: who is due, the contents of every
digest, rendering, and writing them to the mail outbox. Goal: under 60 s.
``BENCH_DIGEST_ACCOUNTS`` and ``BENCH_DIGEST_PEOPLE`` make the run smaller while developing.
"""

from __future__ import annotations

import datetime as dt
import os

from bench.common import Context, Result

ORDER = 75
GOAL_SECONDS = 60.0
PREFIX = "bench-digest-"
ZONES = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Sao_Paulo"]


def _prepare(accounts: int, people: int, now: dt.datetime) -> list[int]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from accounts.seeding import ensure_accounts
    from csplatform import roles
    from csplatform.models import User

    ensure_accounts(accounts)
    existing = list(
        User.objects.filter(username__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)
    )
    if len(existing) >= people:
        return existing[:people]
    with transaction.atomic():
        User.objects.filter(username__startswith=PREFIX).delete()
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{PREFIX}{i}",
                    email=f"{PREFIX}{i}@csplatform.example",
                    first_name="Person",
                    last_name=str(i),
                    password=make_password(None),  # unusable: bench people never sign in
                    time_zone=ZONES[i % len(ZONES)],
                    weekly_capacity_hours=5 if i % 10 == 0 else 40,
                )
                for i in range(people)
            ],
            batch_size=5000,
        )
        n_csm, n_ae = people * 8 // 10, people * 15 // 100
        csms, aes, leaders = users[:n_csm], users[n_csm : n_csm + n_ae], users[n_csm + n_ae :]
        through = User.groups.through
        rows = []
        for group_name, members in (
            (roles.CSM, csms),
            (roles.ACCOUNT_EXECUTIVE, aes),
            (roles.CS_LEADERSHIP, leaders),
        ):
            group = Group.objects.get(name=group_name)
            rows += [through(user_id=u.pk, group_id=group.pk) for u in members]
        through.objects.bulk_create(rows, batch_size=10000)
        params = {
            "csm_first": csms[0].pk,
            "n_csm": len(csms),
            "ae_first": aes[0].pk,
            "n_ae": len(aes),
            "now": now,
            "ae_last": aes[-1].pk,
        }
        with connection.cursor() as cursor:
            # The book spread over the people (ids of a bulk insert are consecutive).
            cursor.execute(
                """UPDATE accounts_account SET csm_id = %(csm_first)s + id %% %(n_csm)s,
                                               ae_id = %(ae_first)s + id %% %(n_ae)s""",
                params,
            )
            # A day of events, as notifications (what digests read for what happened).
            cursor.execute(
                """
                INSERT INTO engagement_notification (recipient_id, kind, key, title, body, url, account_id,
                                                     created_at, read_at)
                SELECT a.csm_id, k.kind, k.kind || ':' || a.id, 'Event on ' || a.name, '', '', a.id,
                       %(now)s - (a.id %% 20) * interval '1 hour', NULL
                FROM accounts_account a
                JOIN (VALUES ('flag_raised', 25), ('health_fell', 200)) AS k(kind, every)
                  ON a.id %% k.every = 0
                WHERE a.id %% 25 = 0 OR a.id %% 200 = 0
                """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO engagement_notification (recipient_id, kind, key, title, body, url, account_id,
                                                     created_at, read_at)
                SELECT a.ae_id, 'commitment_decided', 'commitment:' || a.id, 'Decision on ' || a.name, '', '',
                       a.id, %(now)s - interval '2 hours', NULL
                FROM accounts_account a WHERE a.id %% 50 = 0
                """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO engagement_task (account_id, assignee_id, title, description, checklist,
                    due_on, status, estimated_minutes, tier_code, created_at, snoozed_until,
                    cancelled_reason, snooze_reason)
                SELECT a.id, a.csm_id, 'Follow up with ' || a.name, '', '[]'::jsonb,
                       (%(now)s::date - (a.id %% 3)::int), 'open', 30, a.tier_code, %(now)s, NULL, '', ''
                FROM accounts_account a WHERE a.id %% 16 = 0
                """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO segmentation_tierchange (account_id, from_code, from_name, to_code, to_name,
                    to_rank, explanation, steps, source, status, created_at, decision_note)
                SELECT a.id, a.tier_code, '', 'MM1', 'Mid-Market Tier 1', 2, 'Bench proposal', '[]'::jsonb,
                       'review', 'proposed', %(now)s, ''
                FROM accounts_account a WHERE a.id %% 100 = 0
                """,
                params,
            )
            cursor.execute("ANALYZE engagement_notification")
            cursor.execute("ANALYZE engagement_task")
    return [u.pk for u in users]


def run(ctx: Context) -> list[Result]:
    from django.utils import timezone

    from engagement.capacity.services import csm_portfolio_refresh
    from engagement.models import OutgoingMail
    from engagement.notifications.digests import digests_send

    accounts = int(os.environ.get("BENCH_DIGEST_ACCOUNTS", "1000000"))
    people = int(os.environ.get("BENCH_DIGEST_PEOPLE", "10000"))
    # 20:00 UTC: past 07:00 in every bench time zone, the same local day.
    now = timezone.now().replace(hour=20, minute=0, second=0, microsecond=0)
    user_ids = _prepare(accounts, people, now)
    csm_portfolio_refresh()
    best = float("inf")
    written = 0
    for _ in range(2):
        OutgoingMail.objects.filter(user_id__in=user_ids, kind="digest").delete()
        with ctx.timer() as elapsed:
            counts = digests_send(now=now, user_ids=user_ids)
        best = min(best, elapsed())
        written = counts["written"] + counts["nothing_to_tell"]
    assert written == len(user_ids), f"{written} digests for {len(user_ids)} people"
    return [
        Result(
            "digest_build_10k",
            best,
            "s",
            goal=GOAL_SECONDS,
            note=f"{len(user_ids)} people over {accounts} accounts; {written} digests written",
        )
    ]
