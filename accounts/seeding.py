"""Deterministic demo data, fast enough to fill a database with a million accounts.

Two entry points:

``seed_demo(accounts=2000, seed=42, ...)``
    What ``manage.py seed_demo`` runs: the demo people (CSMs, AEs, CS leaders, an integration
    user, all with the password ``DEMO_PASSWORD``), then ``accounts`` customer accounts with
    contacts, 26 weekly usage snapshots and two years of renewal outcomes that follow each
    account's usage trend and tickets (``seeding_history``), in one transaction. In that
    transaction it sends ``accounts.signals.demo_data_seeded``: higher apps queue the tasks that
    derive their demo state (tiers, touchpoints, tasks, health history), which commit with the
    data or not at all. The same seed gives the same names, ACVs, owners, contacts, usage and
    outcomes.

``ensure_accounts(n, seed=7, detail_limit=DETAIL_LIMIT)``
    For benchmarks: makes sure the database holds at least ``n`` accounts, adding demo accounts
    (and the demo people) only when it holds fewer, and returns the account count. It does not
    send ``demo_data_seeded``: a bench sets up the derived state it measures itself. Typical use
    in ``bench/bench_<name>.py``::

        from accounts.seeding import ensure_accounts
        ensure_accounts(100_000)        # or 1_000_000; a no-op when already there

Speed: rows are generated as plain tuples and streamed with COPY (``queries.rows_copy``).
Contacts and usage
snapshots are created for at most ``detail_limit`` accounts (20,000 by default), spread evenly
over all accounts; beyond that, accounts have neither, which keeps a million accounts to
seconds instead of minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from csplatform import roles
from csplatform.queries import advisory_xact_lock

from . import queries
from .demo_vocabulary import (
    ACV_MAX,
    ACV_MIN,
    ACV_MU,
    ACV_SIGMA,
    CHAMPION_ROLES,
    CONTACT_COUNTS,
    EXECUTIVE_ROLES,
    LIFECYCLES,
    NAME_FIRST,
    NAME_SECOND,
    OTHER_ROLES,
    OTHER_TIME_ZONES,
    PERSON_FIRST,
    PERSON_LAST,
    REGIONS,
    TRENDS,
    VERTICALS,
    pick,
    pool,
)
from .models import REGION_TIME_ZONES, Account, Contact, LifecycleStage, Region, RenewalOutcome, UsageSnapshot
from .seeding_history import OUTCOME_FIELDS, AccountHistoryChange, AccountUsageProfile, renewal_history_rows
from .seeding_users import DEMO_USERS, DemoUser, demo_user_ids, ensure_demo_users
from .signals import demo_data_seeded

DEMO_CRM_SOURCE = "demo"
DEFAULT_ACCOUNTS = 2_000
DEFAULT_SEED = 42
# How much of a book each demo CSM carries against their hours (1.0: a fair share).
DEMO_BOOK_LOAD = {
    "maria": 1.1,
    "james": 1.0,
    "priya": 0.55,
    "lucas": 0.9,
    "sofia": 0.5,
    "ahmed": 1.0,
    "yuki": 0.6,
    "emma": 0.75,
}
DETAIL_LIMIT = 20_000
WEEKS_OF_USAGE = 26
# An account whose tickets over the usage weeks exceed its expected load by this much has "high
# tickets" (it churns more often in the renewal history).
HIGH_TICKETS_FACTOR = 1.5


@dataclass
class SeedSummary:
    seed: int
    accounts: int = 0
    contacts: int = 0
    usage_snapshots: int = 0
    renewal_outcomes: int = 0
    detail_accounts: int = 0
    users: list[DemoUser] = field(default_factory=lambda: list(DEMO_USERS))
    seconds: float = 0.0
    skipped: bool = False


@dataclass(frozen=True)
class _Detail:
    """What contacts and usage need to know about an account that gets them."""

    external_id: str
    acv: float
    region: str
    domain: str
    lifecycle_stage: str
    contract_start: dt.date
    renewal_date: dt.date


# --- Row generation -------------------------------------------------------------------------------


def _account_rows(
    rng: random.Random,
    *,
    start: int,
    count: int,
    detail_every: int,
    csm_pool: Sequence[int],
    ae_ids: Sequence[int],
    today: dt.date,
    details: list[_Detail],
) -> Iterator[tuple[Any, ...]]:
    """Yield account rows (ACCOUNT_FIELDS order); note in ``details`` who gets contacts/usage.

    The hot loop of a million-account seed: pools hold plain strings and dates are looked up in
    precomputed lists, which halves the time of calling helpers and building enums per row.
    """
    rand, lognormal = rng.random, rng.lognormvariate
    verticals = [str(v.value) for v in VERTICALS]
    regions = [str(r.value) for r in REGIONS]
    stages = [str(s.value) for s in LIFECYCLES]
    second_names = {str(v.value): names for v, names in NAME_SECOND.items()}
    next_year = [today + dt.timedelta(days=d) for d in range(365)]
    past_half_year = [today - dt.timedelta(days=1 + d) for d in range(180)]
    short_contracts = {LifecycleStage.ONBOARDING.value, LifecycleStage.ADOPTING.value}
    renewing, churned = LifecycleStage.RENEWING.value, LifecycleStage.CHURNED.value
    year = dt.timedelta(days=365)
    for index in range(start, start + count):
        vertical = verticals[int(rand() * len(verticals))]
        seconds = second_names[vertical]
        name = f"{NAME_FIRST[int(rand() * len(NAME_FIRST))]} {seconds[int(rand() * len(seconds))]}"
        domain = f"{name.lower().replace(' ', '')}{index}.example"
        region = regions[int(rand() * len(regions))]
        acv = round(min(ACV_MAX, max(ACV_MIN, lognormal(ACV_MU, ACV_SIGMA))), -2)
        stage = stages[int(rand() * len(stages))]
        if stage == renewing:
            renewal = next_year[int(rand() * 90)]
        elif stage == churned:
            renewal = past_half_year[int(rand() * 180)]
        else:
            renewal = next_year[int(rand() * 365)]
        contract_start = renewal - year * (1 if stage in short_contracts else 1 + int(rand() * 4))
        external_id = f"DEMO-{index:07d}"
        if detail_every and index % detail_every == 0:
            details.append(_Detail(external_id, acv, region, domain, stage, contract_start, renewal))
        yield (
            DEMO_CRM_SOURCE,
            external_id,
            name,
            domain,
            vertical,
            region,
            f"{acv:.2f}",
            stage,
            contract_start,
            renewal,
            csm_pool[int(rand() * len(csm_pool))],
            ae_ids[int(rand() * len(ae_ids))],
        )


# fmt: off
ACCOUNT_FIELDS = (
    "crm_source", "external_id", "name", "domain", "vertical", "region", "acv", "lifecycle_stage",
    "contract_start", "renewal_date", "csm", "ae",
)
# fmt: on


def _contact_rows(
    rng: random.Random, details: Iterable[_Detail], account_ids: dict[str, int], now: Any
) -> Iterator[tuple[Any, ...]]:
    for detail in details:
        account_id = account_ids[detail.external_id]
        count = pick(rng, CONTACT_COUNTS)
        has_champion = rng.random() < 0.85
        seen: set[str] = set()
        for position in range(count):
            first, last = pick(rng, PERSON_FIRST), pick(rng, PERSON_LAST)
            local = f"{first}.{last}".lower()
            while local in seen:
                local += str(position)
            seen.add(local)
            is_champion = has_champion and position == 0
            is_executive = position == 1 or (count == 1 and rng.random() < 0.3)
            if is_executive:
                role = pick(rng, EXECUTIVE_ROLES)
            elif is_champion:
                role = pick(rng, CHAMPION_ROLES)
            else:
                role = pick(rng, OTHER_ROLES)
            region = Region(detail.region)
            zone = REGION_TIME_ZONES[region] if rng.random() < 0.7 else pick(rng, OTHER_TIME_ZONES[region])
            opted_out = rng.random() < 0.03
            yield (
                account_id,
                f"{local}@{detail.domain}",
                f"{first} {last}",
                role,
                is_champion,
                is_executive,
                zone,
                opted_out,
                now if opted_out else None,
            )


CONTACT_FIELDS = (
    "account",
    "email",
    "name",
    "role",
    "is_champion",
    "is_executive",
    "time_zone",
    "email_opt_out",
    "unsubscribed_at",
)


def _usage_rows(
    rng: random.Random,
    details: Iterable[_Detail],
    account_ids: dict[str, int],
    weeks: Sequence[dt.date],
    profiles: list[AccountUsageProfile],
) -> Iterator[tuple[Any, ...]]:
    """Usage rows; what the renewal history depends on (trend, ticket load) goes to ``profiles``."""
    last = len(weeks) - 1 or 1
    for detail in details:
        account_id = account_ids[detail.external_id]
        seats = max(5, min(20_000, int(detail.acv / 400)))
        trend = "declining" if detail.lifecycle_stage == LifecycleStage.CHURNED else pick(rng, TRENDS)
        base_use = 0.35 + rng.random() * 0.5
        base_adoption = 0.2 + rng.random() * 0.5
        tickets_per_week = 0.3 + seats / 150
        tickets_total = 0
        for week_number, period_start in enumerate(weeks):
            progress = week_number / last
            spike = False
            if trend == "growing":
                factor = 0.6 + 0.7 * progress
            elif trend == "declining":
                factor = 1.15 - 0.75 * progress
            elif trend == "spiky":
                spike = rng.random() < 0.18
                factor = 1.6 if spike else 0.75
            else:
                factor = 1.0
            factor *= 0.95 + rng.random() * 0.1
            use = min(1.0, base_use * factor)
            adoption = min(1.0, base_adoption * (0.5 + factor / 2))
            tickets = int(
                rng.expovariate(1 / tickets_per_week) * (2.5 if spike or trend == "declining" else 1)
            )
            tickets_total += tickets
            yield (account_id, period_start, round(seats * use), seats, f"{adoption:.3f}", tickets)
        profiles.append(
            AccountUsageProfile(
                account_id=account_id,
                acv=detail.acv,
                lifecycle_stage=detail.lifecycle_stage,
                contract_start=detail.contract_start,
                renewal_date=detail.renewal_date,
                trend=trend,
                high_tickets=tickets_total > HIGH_TICKETS_FACTOR * tickets_per_week * len(weeks),
            )
        )


USAGE_FIELDS = (
    "account",
    "period_start",
    "active_users",
    "licensed_seats",
    "feature_adoption",
    "support_tickets",
)


def usage_weeks(today: dt.date, weeks: int = WEEKS_OF_USAGE) -> list[dt.date]:
    """Mondays of the last ``weeks`` complete weeks, oldest first."""
    this_monday = today - dt.timedelta(days=today.weekday())
    return [this_monday - dt.timedelta(weeks=weeks - offset) for offset in range(weeks)]


# --- Writing ----------------------------------------------------------------------------------------


def _bulk_insert(
    model: type[models.Model], field_names: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert generated rows; every other column gets its model default (timestamps: now).

    Columns are taken from the model, so a field another app adds later with a default does not
    break seeding.
    """
    now = timezone.now()
    concrete = {f.name: f for f in model._meta.concrete_fields}
    named = [concrete[name] for name in field_names]
    rest = [f for f in concrete.values() if not f.primary_key and f.name not in field_names]
    rest_values = tuple(
        (now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default())
        for f in rest
    )
    rest_values = tuple(
        f.get_db_prep_save(value, connection) for f, value in zip(rest, rest_values, strict=True)
    )
    columns = [str(f.column) for f in (*named, *rest)]
    return queries.rows_copy(
        table=model._meta.db_table, columns=columns, rows=(row + rest_values for row in rows)
    )


def _account_ids(external_ids: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk_start in range(0, len(external_ids), 10_000):
        chunk = external_ids[chunk_start : chunk_start + 10_000]
        ids.update(
            Account.objects.filter(crm_source=DEMO_CRM_SOURCE, external_id__in=chunk).values_list(
                "external_id", "id"
            )
        )
    return ids


def seed_accounts(
    count: int,
    *,
    seed: int,
    start: int = 0,
    detail_limit: int = DETAIL_LIMIT,
    today: dt.date | None = None,
    summary: SeedSummary | None = None,
    renewal_history: bool = True,
) -> SeedSummary:
    """Insert ``count`` demo accounts numbered from ``start`` (plus contacts, usage and, unless
    ``renewal_history`` is False, two years of renewal outcomes for up to ``detail_limit`` of
    them). Call inside a transaction; the demo users must exist."""
    summary = summary or SeedSummary(seed=seed)
    today = today or timezone.localdate()
    user_ids = demo_user_ids()
    capacity = {person.username: person.weekly_capacity_hours for person in DEMO_USERS}
    # CSMs with more hours carry more accounts, but books are not balanced: some CSMs run over
    # their capacity, others have room (what capacity planning is for).
    csm_pool = pool(
        [
            (user_id, round(capacity[name] * DEMO_BOOK_LOAD.get(name, 1.0) / 2))
            for name, user_id in user_ids[roles.CSM]
        ]
    )
    ae_ids = [user_id for _, user_id in user_ids[roles.ACCOUNT_EXECUTIVE]]
    detail_every = math.ceil(count / detail_limit) if detail_limit > 0 and count else 0
    rng = random.Random(f"csplatform-demo:{seed}:{start}")
    details: list[_Detail] = []
    profiles: list[AccountUsageProfile] = []
    summary.accounts += _bulk_insert(
        Account,
        ACCOUNT_FIELDS,
        _account_rows(
            rng,
            start=start,
            count=count,
            detail_every=detail_every,
            csm_pool=csm_pool,
            ae_ids=ae_ids,
            today=today,
            details=details,
        ),
    )
    if details:
        account_ids = _account_ids([detail.external_id for detail in details])
        detail_rng = random.Random(f"csplatform-demo-detail:{seed}:{start}")
        now = timezone.now()
        summary.contacts += _bulk_insert(
            Contact, CONTACT_FIELDS, _contact_rows(detail_rng, details, account_ids, now)
        )
        summary.usage_snapshots += _bulk_insert(
            UsageSnapshot,
            USAGE_FIELDS,
            _usage_rows(detail_rng, details, account_ids, usage_weeks(today), profiles),
        )
    if profiles and renewal_history:
        changes: list[AccountHistoryChange] = []
        history_rng = random.Random(f"csplatform-demo-renewals:{seed}:{start}")
        summary.renewal_outcomes += _bulk_insert(
            RenewalOutcome, OUTCOME_FIELDS, renewal_history_rows(history_rng, profiles, today, changes)
        )
        queries.accounts_stage_update(
            account_ids=[c.account_id for c in changes],
            stages=[c.lifecycle_stage for c in changes],
            renewal_dates=[c.renewal_date for c in changes],
        )
    summary.detail_accounts += len(details)
    return summary


def _next_demo_index() -> int:
    last = (
        Account.objects.filter(crm_source=DEMO_CRM_SOURCE, external_id__startswith="DEMO-")
        .order_by("-external_id")
        .values_list("external_id", flat=True)
        .first()
    )
    return int(last.removeprefix("DEMO-")) + 1 if last else 0


# --- Entry points -----------------------------------------------------------------------------------


class DemoDataExists(Exception):
    """Demo accounts are already there and the caller asked neither to skip nor to replace."""


def seed_demo(
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    seed: int = DEFAULT_SEED,
    if_empty: bool = False,
    replace: bool = False,
    detail_limit: int = DETAIL_LIMIT,
    today: dt.date | None = None,
) -> SeedSummary:
    """Create the demo people and ``accounts`` demo accounts; send demo_data_seeded in the same
    transaction (its receivers only queue tasks, published once the seed committed)."""
    started = time.perf_counter()
    summary = SeedSummary(seed=seed)
    if if_empty and Account.objects.exists():
        summary.skipped = True
        return summary
    with transaction.atomic():
        demo_accounts = Account.objects.filter(crm_source=DEMO_CRM_SOURCE)
        if demo_accounts.exists():
            if not replace:
                raise DemoDataExists(
                    "Demo accounts already exist. Use --replace to delete them first, "
                    "or --if-empty to skip seeding when any account exists."
                )
            demo_accounts.delete()
        ensure_demo_users()
        seed_accounts(accounts, seed=seed, detail_limit=detail_limit, today=today, summary=summary)
        # A receiver that fails rolls the seed back: demo data never lacks its derived state.
        demo_data_seeded.send(sender=Account, seed=seed)
    summary.seconds = time.perf_counter() - started
    return summary


def ensure_accounts(n: int, *, seed: int = 7, detail_limit: int = DETAIL_LIMIT) -> int:
    """Make sure the database holds at least ``n`` accounts (for benches); returns the count.

    Adds demo accounts numbered after the existing ones when there are fewer; does nothing
    otherwise. Does not send demo_data_seeded.
    """
    existing = Account.objects.count()
    if existing >= n:
        return existing
    with transaction.atomic():
        # Two benches topping up the same database at once: the second waits, then counts again.
        advisory_xact_lock(key="csplatform.ensure_accounts")
        existing = Account.objects.count()
        if existing >= n:
            return existing
        ensure_demo_users()
        # Outcomes are derived state: a bench that measures them writes its own.
        seed_accounts(
            n - existing,
            seed=seed,
            start=_next_demo_index(),
            detail_limit=detail_limit,
            renewal_history=False,
        )
    return Account.objects.count()
