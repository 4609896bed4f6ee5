"""seed_demo: deterministic, realistic demo data; demo people in their roles; --if-empty."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import seeding, seeding_users
from accounts.models import Account, Contact, UsageSnapshot
from csplatform import roles
from csplatform.models import User
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot_of_demo_data() -> dict[str, Any]:
    return {
        "accounts": list(
            Account.objects.order_by("external_id").values_list(
                "external_id",
                "name",
                "acv",
                "vertical",
                "region",
                "lifecycle_stage",
                "csm__username",
                "ae__username",
            )
        ),
        "contacts": list(
            Contact.objects.order_by("account__external_id", "email").values_list(
                "account__external_id", "email", "is_champion", "is_executive"
            )
        ),
        "usage": list(
            UsageSnapshot.objects.order_by("account__external_id", "period_start").values_list(
                "account__external_id", "period_start", "active_users", "support_tickets"
            )
        ),
    }


def seed_and_roll_back(*args: str) -> dict[str, Any]:
    with transaction.atomic():
        seed(*args)
        data = snapshot_of_demo_data()
        transaction.set_rollback(True)
    return data


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first = seed_and_roll_back("--accounts", "80", "--seed", "5")
    again = seed_and_roll_back("--accounts", "80", "--seed", "5")
    other = seed_and_roll_back("--accounts", "80", "--seed", "6")

    assert len(first["accounts"]) == 80
    assert first == again
    assert [row[1:3] for row in first["accounts"]] != [row[1:3] for row in other["accounts"]]


def test_seeds_the_requested_accounts_with_contacts_and_26_weekly_snapshots_each() -> None:
    output = seed("--accounts", "300", "--seed", "11")

    assert Account.objects.count() == 300
    assert "300 accounts" in output
    contacts_per_account = Counter(Contact.objects.values_list("account_id", flat=True))
    assert len(contacts_per_account) == 300
    assert set(contacts_per_account.values()) <= set(range(1, 7))
    assert max(contacts_per_account.values()) == 6
    assert Contact.objects.filter(is_champion=True).count() > 150
    assert Contact.objects.filter(is_executive=True).count() > 150

    account = Account.objects.order_by("id").first()
    assert account is not None
    weeks = list(account.usage_snapshots.order_by("period_start").values_list("period_start", flat=True))
    assert len(weeks) == seeding.WEEKS_OF_USAGE
    assert all(week.weekday() == 0 for week in weeks)
    assert all(later - earlier == dt.timedelta(weeks=1) for earlier, later in itertools.pairwise(weeks))
    assert UsageSnapshot.objects.count() == 300 * seeding.WEEKS_OF_USAGE


def test_acv_is_long_tailed_and_accounts_spread_over_verticals_regions_and_stages() -> None:
    seed("--accounts", "600", "--seed", "3")

    acvs = list(Account.objects.values_list("acv", flat=True))
    below_mid_market = sum(acv < Decimal(15_000) for acv in acvs)
    assert below_mid_market / len(acvs) > 0.55
    assert max(acvs) >= Decimal(70_000)
    assert max(acvs) <= Decimal(1_000_000)
    assert min(acvs) > 0
    assert set(Account.objects.values_list("region", flat=True)) == {"Americas", "EMEA", "APAC", "MENA"}
    assert len(set(Account.objects.values_list("vertical", flat=True))) >= 6
    assert len(set(Account.objects.values_list("lifecycle_stage", flat=True))) == 5
    today = timezone.localdate()
    renewing = Account.objects.exclude(lifecycle_stage="churned")
    assert all(
        today <= r <= today + dt.timedelta(days=366) for r in renewing.values_list("renewal_date", flat=True)
    )


def test_usage_has_growing_and_declining_accounts() -> None:
    seed("--accounts", "120", "--seed", "8")

    trends = Counter()
    for account_id in Account.objects.values_list("id", flat=True):
        users = list(
            UsageSnapshot.objects.filter(account_id=account_id)
            .order_by("period_start")
            .values_list("active_users", flat=True)
        )
        early, late = sum(users[:4]) or 1, sum(users[-4:])
        trends["growing" if late > early * 1.3 else "declining" if late < early * 0.7 else "other"] += 1
    assert trends["growing"] >= 10
    assert trends["declining"] >= 10
    assert trends["other"] >= 10


def test_demo_people_are_in_their_roles_and_own_every_account() -> None:
    seed("--accounts", "200")

    def usernames(role: str) -> set[str]:
        return set(User.objects.filter(groups__name=role).values_list("username", flat=True))

    assert len(usernames(roles.CSM)) == 8
    assert {"tom"} <= usernames(roles.ACCOUNT_EXECUTIVE) and len(usernames(roles.ACCOUNT_EXECUTIVE)) == 4
    assert len(usernames(roles.CS_LEADERSHIP)) == 2
    assert len(usernames(roles.INTEGRATION)) == 1
    assert not Account.objects.filter(csm__isnull=True).exists()
    assert not Account.objects.filter(ae__isnull=True).exists()
    assert set(Account.objects.values_list("csm__username", flat=True)) == usernames(roles.CSM)
    assert set(Account.objects.values_list("ae__username", flat=True)) == usernames(roles.ACCOUNT_EXECUTIVE)
    maria = User.objects.get(username="maria")
    assert maria.weekly_capacity_hours == 40


@pytest.mark.parametrize("username", ["maria", "tom", "lena", "crm-sync"])
def test_each_demo_role_signs_in_with_the_demo_password(client: Any, username: str) -> None:
    seed("--accounts", "20")

    response = client.post("/login/", {"username": username, "password": seeding_users.DEMO_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)


def test_if_empty_does_nothing_when_any_account_exists() -> None:
    AccountFactory()

    output = seed("--accounts", "50", "--if-empty")

    assert Account.objects.count() == 1
    assert not User.objects.filter(username="maria").exists()
    assert "not seeded" in output


def test_if_empty_seeds_an_empty_database() -> None:
    seed("--accounts", "30", "--if-empty")

    assert Account.objects.count() == 30


def test_seeding_twice_is_refused_without_replace() -> None:
    seed("--accounts", "10")

    with pytest.raises(CommandError, match="--replace"):
        seed("--accounts", "10")
    assert Account.objects.count() == 10


def test_negative_counts_are_refused() -> None:
    with pytest.raises(CommandError, match="negative"):
        seed("--accounts", "-1")


def test_detail_limit_spreads_contacts_and_usage_over_a_subset() -> None:
    output = seed("--accounts", "100", "--detail-limit", "20")

    accounts_with_contacts = set(Contact.objects.values_list("account__external_id", flat=True))
    assert len(accounts_with_contacts) == 20
    assert "DEMO-0000095" in accounts_with_contacts  # every fifth account, not the first twenty
    assert UsageSnapshot.objects.values("account").distinct().count() == 20
    assert "contacts and usage for 20 accounts" in output


def test_inserts_are_batched_not_one_query_per_row() -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as small:
        seed("--accounts", "20")
        transaction.set_rollback(True)
    with CaptureQueriesContext(connection) as large:
        seed("--accounts", "400")

    assert UsageSnapshot.objects.count() == 400 * seeding.WEEKS_OF_USAGE
    assert len(large) <= len(small) + 2


def test_sends_demo_data_seeded_inside_the_seed_transaction_with_the_seed(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A private copy of the signal: this test is about sending it, not about the apps listening.
    signal = Signal()
    monkeypatch.setattr(seeding, "demo_data_seeded", signal)
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append({"sender": sender, "seed": kwargs["seed"], "accounts": Account.objects.count()})

    signal.connect(receiver, weak=False)
    with django_capture_on_commit_callbacks(execute=False):
        seed("--accounts", "15", "--seed", "99")
        # Sent before the commit, once the data is written: what receivers queue commits with it.
        assert received == [{"sender": Account, "seed": 99, "accounts": 15}]

    assert len(received) == 1


def test_ensure_accounts_tops_up_to_n_and_never_removes() -> None:
    AccountFactory()

    assert seeding.ensure_accounts(40, detail_limit=5) == 40
    assert seeding.ensure_accounts(10) == 40
    assert seeding.ensure_accounts(55, detail_limit=0) == 55

    demo_ids = list(Account.objects.filter(crm_source="demo").values_list("external_id", flat=True))
    assert len(demo_ids) == len(set(demo_ids)) == 54
    assert Contact.objects.values("account").distinct().count() == 5


def test_demo_logins_prints_the_url_and_the_logins_per_role() -> None:
    seed("--accounts", "5")
    out = StringIO()

    call_command("demo_logins", "--port", "8765", stdout=out)

    text = out.getvalue()
    assert "http://localhost:8765/" in text
    assert seeding_users.DEMO_PASSWORD in text
    for role, username in [
        (roles.CSM, "maria"),
        (roles.ACCOUNT_EXECUTIVE, "tom"),
        (roles.CS_LEADERSHIP, "lena"),
        (roles.INTEGRATION, "crm-sync"),
    ]:
        assert any(line.strip().startswith(role) and username in line for line in text.splitlines())
