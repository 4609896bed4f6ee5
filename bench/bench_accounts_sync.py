"""Account sync through the HTTP API against the raw speed of COPY + INSERT ... ON CONFLICT.

20,000 records (half new, half changing existing accounts) are pushed in 1000-record requests
through the real URL stack (DRF, token auth, validation, the set-based upsert, history rows and
the change signal). The baseline pushes the same records, in the same batches, straight into
PostgreSQL: COPY into a temporary table, then one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE
... IS DISTINCT FROM``. Both write under throwaway CRM sources that are deleted afterwards.

``BENCH_SYNC_RECORDS`` makes the run shorter while developing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid
from decimal import Decimal
from typing import Any

from bench.common import Context, Result

ORDER = 20

BATCH = 1000
GOAL = 0.20
COLUMNS = (
    "external_id",
    "name",
    "domain",
    "vertical",
    "region",
    "acv",
    "lifecycle_stage",
    "renewal_date",
    "csm",
    "ae",
)
UPSERTED = (
    "name",
    "domain",
    "vertical",
    "region",
    "acv",
    "lifecycle_stage",
    "renewal_date",
    "csm_id",
    "ae_id",
)


def _records(count: int, owners: list[str], aes: list[str], seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    verticals = ["retail", "e-commerce", "travel", "gaming", "agencies", "b2b-software"]
    regions = ["Americas", "EMEA", "APAC", "MENA"]
    stages = ["onboarding", "adopting", "mature", "renewing"]
    records = []
    for i in range(count):
        acv = Decimal(int(rng.lognormvariate(9.3, 1.1))).quantize(Decimal("0.01"))
        records.append(
            {
                "external_id": f"B{i:07d}",
                "name": f"Bench Customer {i}",
                "domain": f"customer-{i}.example",
                "vertical": rng.choice(verticals),
                "region": rng.choice(regions),
                "acv": str(acv),
                "lifecycle_stage": rng.choice(stages),
                "renewal_date": (dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(365))).isoformat(),
                "csm": rng.choice(owners),
                "ae": rng.choice(aes),
            }
        )
    return records


def _changed(record: dict[str, Any], owners: list[str], rng: random.Random) -> dict[str, Any]:
    """The same account as the CRM sends it later: a new ACV, sometimes a new stage, renewal or CSM."""
    changed = dict(record, acv=str(Decimal(record["acv"]) + rng.randrange(1, 5000)))
    if rng.random() < 0.25:
        changed["lifecycle_stage"] = rng.choice(["adopting", "mature", "renewing"])
    if rng.random() < 0.3:
        renewal = dt.date.fromisoformat(record["renewal_date"])
        changed["renewal_date"] = renewal.replace(year=renewal.year + 1).isoformat()
    if rng.random() < 0.1:
        changed["csm"] = rng.choice(owners)
    return changed


def _raw_upsert(crm_source: str, records: list[dict[str, Any]]) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_sync_in (external_id text, name text, domain text, vertical text,"
            " region text, acv numeric, lifecycle_stage text, renewal_date date, csm text, ae text)"
            " ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY bench_sync_in ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row([record[column] for column in COLUMNS])
        assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*UPSERTED, "updated_at"))
        current = ", ".join(f"accounts_account.{c}" for c in UPSERTED)
        incoming = ", ".join(f"EXCLUDED.{c}" for c in UPSERTED)
        cursor.execute(
            "INSERT INTO accounts_account (crm_source, external_id, name, domain, vertical, region, acv,"
            " lifecycle_stage, renewal_date, csm_id, ae_id, tier_code, tier_name, tier_source,"
            " tier_explanation, created_at, updated_at)"
            " SELECT %s, t.external_id, t.name, t.domain, t.vertical, t.region, t.acv, t.lifecycle_stage,"
            " t.renewal_date, c.id, a.id, '', '', '', '', now(), now()"
            " FROM bench_sync_in t"
            " LEFT JOIN csplatform_user c ON c.username = t.csm"
            " LEFT JOIN csplatform_user a ON a.username = t.ae"
            f" ON CONFLICT (crm_source, external_id) DO UPDATE SET {assignments}"
            f" WHERE ({current}) IS DISTINCT FROM ({incoming})",
            [crm_source],
        )


def run(ctx: Context) -> list[Result]:
    from django.contrib.auth.models import Group
    from django.db import connection
    from rest_framework.test import APIClient

    from accounts.models import Account
    from csplatform import roles
    from csplatform.models import User
    from csplatform.services import api_token_issue

    total = int(os.environ.get("BENCH_SYNC_RECORDS", "20000"))
    run_id = uuid.uuid4().hex[:8]
    raw_source, api_source = f"bench-raw-{run_id}", f"bench-api-{run_id}"
    csm_names = [f"bench-{run_id}-csm{i}" for i in range(8)]
    ae_names = [f"bench-{run_id}-ae{i}" for i in range(4)]
    users = User.objects.bulk_create(
        [
            User(username=name, email=f"{name}@bench.example")
            for name in [*csm_names, ae_names[0], *ae_names[1:]]
        ]
    )
    # Owners as a CRM names them: people with the role they own accounts in (a sync refuses a CSM
    # who is not one).
    for role, names in ((roles.CSM, csm_names), (roles.ACCOUNT_EXECUTIVE, ae_names)):
        Group.objects.get(name=role).user_set.add(*[u for u in users if u.username in names])
    integration = User.objects.create(username=f"bench-{run_id}-integration")
    integration.groups.add(Group.objects.get(name=roles.INTEGRATION))
    _, key = api_token_issue(user=integration)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    try:
        # Half the records change accounts that exist, half are new, mixed in every request.
        accounts = _records(total, csm_names, ae_names, seed=1)
        existing = accounts[: total // 2]
        rng = random.Random(2)
        incoming = [_changed(record, csm_names, rng) for record in existing] + accounts[total // 2 :]
        rng.shuffle(incoming)
        batches = [incoming[i : i + BATCH] for i in range(0, total, BATCH)]
        for source in (raw_source, api_source):
            for start in range(0, len(existing), BATCH):
                _raw_upsert(source, existing[start : start + BATCH])

        with ctx.timer() as raw_elapsed:
            for batch in batches:
                _raw_upsert(raw_source, batch)
        raw_rate = total / raw_elapsed()

        bodies = [json.dumps({"crm_source": api_source, "records": batch}) for batch in batches]
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        with ctx.timer() as api_elapsed:
            for body in bodies:
                response = client.post("/api/v1/accounts/sync/", data=body, content_type="application/json")
                if response.status_code != 200:
                    raise RuntimeError(f"sync answered {response.status_code}: {response.content[:300]!r}")
                for name in counts:
                    counts[name] += response.json()[name]
        api_rate = total / api_elapsed()

        with connection.cursor() as cursor:
            columns = ", ".join(f"r.{c}" for c in UPSERTED)
            cursor.execute(
                "SELECT count(*) FROM accounts_account r JOIN accounts_account a"
                " ON a.external_id = r.external_id AND a.crm_source = %s"
                f" WHERE r.crm_source = %s AND ({columns}) IS NOT DISTINCT FROM"
                f" ({', '.join(f'a.{c}' for c in UPSERTED)})",
                [api_source, raw_source],
            )
            same = cursor.fetchone()[0]
        if same != total or counts["failed"]:
            raise RuntimeError(f"API and raw paths disagree: {same} of {total} rows equal, {counts}")
        return [
            Result(
                "accounts_sync_api",
                api_rate,
                "records/s",
                ratio=api_rate / raw_rate,
                goal=GOAL,
                higher_is_better=True,
                note=(
                    f"raw COPY+upsert {raw_rate:.0f} records/s; {total} records in {len(batches)} requests"
                    f" ({counts['created']} created, {counts['updated']} updated)"
                ),
            )
        ]
    finally:
        Account.objects.filter(crm_source__in=[raw_source, api_source]).delete()
        User.objects.filter(pk__in=[u.pk for u in users] + [integration.pk]).delete()
