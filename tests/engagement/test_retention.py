"""Retention by segment: the formulas against hand-computed figures, each dimension read from
history, who sees which rows, bad parameters, the leadership panel, its drill-down and CSV, the
override feedback evidence, and the SQL held against the Python reference."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Account, RenewalOutcome
from engagement.models import DeliverySource, ModuleDelivery
from engagement.retention.queries import RetentionSums
from engagement.retention.services import (
    ratio,
    renewal_segments_forget,
    renewal_segments_settle,
    report_from_sums,
)
from playbooks.models import ServiceModule, TierEntitlement
from segmentation.models import (
    AccountHealth,
    HealthScorecard,
    ScorecardStatus,
    Tier,
    TierChange,
    TierOverride,
)
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/retention/"
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def renewal(account: Account, day: dt.date, outcome: str, before: str, after: str) -> RenewalOutcome:
    return RenewalOutcome.objects.create(
        account=account,
        renewal_date=day,
        outcome=outcome,
        arr_before=Decimal(before),
        arr_after=Decimal(after),
        churn_reason="budget" if outcome == "churned" else "",
        source="test",
    )


def tier_change(account: Account, code: str, applied_at: dt.datetime) -> TierChange:
    tier = Tier.objects.get(policy__status="active", code=code)
    return TierChange.objects.create(
        account=account,
        policy=tier.policy,
        to_code=code,
        to_name=tier.name,
        to_rank=tier.rank,
        explanation="test",
        source="review",
        status="applied",
        applied_at=applied_at,
    )


@pytest.fixture
def book(alice: Any, bob: Any) -> dict[str, Account]:
    return make_book(alice, bob)


def make_book(alice: Any, bob: Any) -> dict[str, Account]:
    """Four renewals in 2026 and one in 2025 (outside the period):

    =========  ========  =====  ==========  ======  =====
    account    vertical  CSM    outcome     before  after
    =========  ========  =====  ==========  ======  =====
    retail-1   retail    alice  renewed     100     100
    retail-2   retail    alice  expanded    200     260
    finance-1  finance   bob    contracted  300     240
    finance-2  finance   bob    churned     100     0
    =========  ========  =====  ==========  ======  =====
    """
    accounts = {
        "retail-1": AccountFactory(name="Retail One", vertical="retail", csm=alice),
        "retail-2": AccountFactory(name="Retail Two", vertical="retail", csm=alice),
        "finance-1": AccountFactory(name="Finance One", vertical="finance", csm=bob),
        "finance-2": AccountFactory(name="Finance Two", vertical="finance", csm=bob),
    }
    renewal(accounts["retail-1"], dt.date(2026, 3, 1), "renewed", "100", "100")
    renewal(accounts["retail-2"], dt.date(2026, 4, 1), "expanded", "200", "260")
    renewal(accounts["finance-1"], dt.date(2026, 5, 1), "contracted", "300", "240")
    renewal(accounts["finance-2"], dt.date(2026, 6, 1), "churned", "100", "0")
    renewal(accounts["retail-1"], dt.date(2025, 12, 31), "churned", "999", "0")
    return accounts


def rows_by_group(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["group"]: row for row in body["rows"]}


def report(api_client: Any, params: dict[str, str]) -> dict[str, Any]:
    """The report looked up from history, then again from the segments kept for ended renewal
    days: both must say the same."""
    renewal_segments_forget(account_ids=None)
    live = api_client.get(URL, params)
    assert live.status_code == 200
    assert renewal_segments_settle() > 0
    settled = api_client.get(URL, params)
    assert settled.json() == live.json()
    return live.json()


# --- The formulas -------------------------------------------------------------------------------


def test_each_formula_matches_the_hand_computed_figures(book, lena, api_client):
    api_client.force_authenticate(lena)
    response = api_client.get(URL, {**PERIOD, "by": "vertical"})
    assert response.status_code == 200
    body = response.json()
    assert body["from"] == "2026-01-01" and body["to"] == "2026-12-31" and body["by"] == "vertical"
    # retail: Σmin = 100+200 = 300 of 300 before; Σafter = 360; no churn.
    # finance: Σmin = 240+0 = 240 of 400; Σafter = 240; 1 of 2 churned.
    assert rows_by_group(body) == {
        "finance": {
            "group": "finance",
            "renewals": 2,
            "arr_before": "400.00",
            "arr_after": "240.00",
            "grr": "0.6000",
            "nrr": "0.6000",
            "logo_churn": "0.5000",
        },
        "retail": {
            "group": "retail",
            "renewals": 2,
            "arr_before": "300.00",
            "arr_after": "360.00",
            "grr": "1.0000",
            "nrr": "1.2000",
            "logo_churn": "0.0000",
        },
    }
    # total: 540/700 = 0.771428…, 600/700 = 0.857142…, 1/4.
    assert body["total"] == {
        "group": None,
        "renewals": 4,
        "arr_before": "700.00",
        "arr_after": "600.00",
        "grr": "0.7714",
        "nrr": "0.8571",
        "logo_churn": "0.2500",
    }


def test_ratios_round_half_up_to_four_places():
    assert ratio(Decimal("12345"), Decimal("100000")) == Decimal("0.1235")  # half-even would say 0.1234
    assert ratio(1, 3) == Decimal("0.3333")
    assert ratio(2, 3) == Decimal("0.6667")
    assert ratio(5, 0) is None


def test_a_group_without_renewals_is_left_out_and_an_empty_period_has_a_zero_total(book, lena, api_client):
    api_client.force_authenticate(lena)
    body = api_client.get(URL, {"from": "2027-01-01", "to": "2027-12-31", "by": "tier"}).json()
    assert body["rows"] == []
    assert body["total"]["renewals"] == 0 and body["total"]["grr"] is None
    sums = [RetentionSums("ENT", 0, Decimal(0), Decimal(0), Decimal(0), 0)]
    assert report_from_sums(sums, date_from=dt.date.min, date_to=dt.date.max, by="tier").rows == []


# --- Dimensions read from history ---------------------------------------------------------------


def test_tier_is_the_one_held_on_the_renewal_date(book, lena, api_client):
    # retail-1 renews 2026-03-01: MM1 since 2025, ENT only from the day after (must not count).
    tier_change(book["retail-1"], "MM1", at_noon(dt.date(2025, 6, 1)))
    tier_change(book["retail-1"], "ENT", at_noon(dt.date(2026, 3, 2)))
    # retail-2 renews 2026-04-01: ENT applied that very day counts.
    tier_change(book["retail-2"], "MM2", at_noon(dt.date(2025, 1, 1)))
    tier_change(book["retail-2"], "ENT", at_noon(dt.date(2026, 4, 1)))
    # finance-1 and finance-2 have no tier history: unknown.
    api_client.force_authenticate(lena)
    by_tier = rows_by_group(report(api_client, {**PERIOD, "by": "tier"}))
    assert {g: r["renewals"] for g, r in by_tier.items()} == {"MM1": 1, "ENT": 1, "unknown": 2}
    by_touch = rows_by_group(report(api_client, {**PERIOD, "by": "touch_model"}))
    assert {g: r["renewals"] for g, r in by_touch.items()} == {"hybrid": 1, "high": 1, "unknown": 2}


def test_csm_region_and_vertical_groups(book, lena, api_client):
    api_client.force_authenticate(lena)
    by_csm = rows_by_group(api_client.get(URL, {**PERIOD, "by": "csm"}).json())
    assert {g: r["arr_before"] for g, r in by_csm.items()} == {"alice": "300.00", "bob": "400.00"}
    by_region = rows_by_group(api_client.get(URL, {**PERIOD, "by": "region"}).json())
    assert list(by_region) == ["EMEA"]


def deliver(account: Account, module: ServiceModule, *days: dt.date) -> None:
    for day in days:
        ModuleDelivery.objects.create(
            account=account,
            module=module,
            delivered_at=at_noon(day),
            delivered_on=day,
            source=DeliverySource.MANUAL,
        )


def test_coverage_is_late_when_a_due_delivery_was_missed_in_the_year_before(book, lena, api_client):
    mm2 = Tier.objects.get(policy__status="active", code="MM2")
    TierEntitlement.objects.filter(tier=mm2).delete()
    qbr = ServiceModule.objects.get(code="qbr")
    TierEntitlement.objects.create(tier=mm2, module=qbr, cadence_days=90)
    kept, missed = book["retail-2"], book["finance-1"]  # renew 2026-04-01 and 2026-05-01
    for account in (kept, missed):
        tier_change(account, "MM2", at_noon(dt.date(2024, 1, 1)))
    # Every gap within 90 days, counting from the last QBR before the window to the renewal.
    deliver(kept, qbr, dt.date(2025, 3, 1), dt.date(2025, 5, 20), dt.date(2025, 8, 10), dt.date(2025, 11, 1))
    deliver(kept, qbr, dt.date(2026, 1, 20))
    # Same, but nothing between 2025-08-10 and 2026-01-20 (163 days): one QBR was missed.
    deliver(
        missed, qbr, dt.date(2025, 5, 20), dt.date(2025, 8, 10), dt.date(2026, 1, 20), dt.date(2026, 4, 10)
    )
    # retail-1 and finance-2 hold no tier: nothing recurring fell due, on time.
    api_client.force_authenticate(lena)
    body = report(api_client, {**PERIOD, "by": "coverage"})
    assert {g: r["renewals"] for g, r in rows_by_group(body).items()} == {"late": 1, "on_time": 3}
    assert rows_by_group(body)["late"]["arr_before"] == "300.00"


def test_override_counts_when_it_was_in_force_on_the_renewal_date(book, lena, alice, api_client):
    def override(account: Account, *, activated: dt.date, expires: dt.date, status: str, ended=None) -> None:
        TierOverride.objects.create(
            account=account,
            tier_code="ENT",
            tier_name="Enterprise",
            tier_rank=1,
            policy_tier_code="MM1",
            policy_tier_rank=2,
            reason="executive_sponsor",
            note="Sponsor",
            expires_on=expires,
            status=status,
            requested_by=alice,
            activated_at=at_noon(activated),
            ended_at=at_noon(ended) if ended else None,
        )

    # In force over retail-1's renewal (2026-03-01), since expired.
    override(book["retail-1"], activated=dt.date(2026, 1, 1), expires=dt.date(2026, 3, 31), status="expired")
    # Expired the day before retail-2's renewal (2026-04-01).
    override(book["retail-2"], activated=dt.date(2026, 1, 1), expires=dt.date(2026, 3, 31), status="expired")
    # Ended early before finance-1's renewal (2026-05-01).
    override(
        book["finance-1"],
        activated=dt.date(2026, 1, 1),
        expires=dt.date(2026, 6, 30),
        status="ended",
        ended=dt.date(2026, 4, 15),
    )
    api_client.force_authenticate(lena)
    body = report(api_client, {**PERIOD, "by": "override"})
    assert {g: r["renewals"] for g, r in rows_by_group(body).items()} == {"overridden": 1, "policy": 3}
    assert rows_by_group(body)["overridden"]["arr_before"] == "100.00"


def test_health_band_is_the_one_90_days_before_the_renewal(book, lena, api_client):
    scorecard = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)

    def health(account: Account, day: dt.date, band: str) -> None:
        AccountHealth.objects.create(account=account, date=day, score=50, band=band, scorecard=scorecard)

    # retail-1 renews 2026-03-01: 90 days before is 2025-12-01.
    health(book["retail-1"], dt.date(2025, 11, 20), "at_risk")
    health(book["retail-1"], dt.date(2025, 12, 15), "healthy")  # too late to count
    # retail-2 renews 2026-04-01 (90 days before: 2026-01-01): exactly that day.
    health(book["retail-2"], dt.date(2026, 1, 1), "watch")
    # finance-1: only a recent row; finance-2: none.
    health(book["finance-1"], dt.date(2026, 4, 20), "healthy")
    api_client.force_authenticate(lena)
    body = report(api_client, {**PERIOD, "by": "health_band"})
    assert {g: r["renewals"] for g, r in rows_by_group(body).items()} == {
        "at_risk": 1,
        "watch": 1,
        "unknown": 2,
    }


# --- Who sees what; bad input ---------------------------------------------------------------------


def test_a_csm_sees_only_the_rows_of_their_own_accounts(book, alice, api_client):
    api_client.force_authenticate(alice)
    body = api_client.get(URL, {**PERIOD, "by": "vertical"}).json()
    assert list(rows_by_group(body)) == ["retail"]
    assert body["total"]["renewals"] == 2 and body["total"]["arr_before"] == "300.00"


def test_integration_sees_every_row(book, integration_client):
    body = integration_client.get(URL, {**PERIOD, "by": "vertical"}).json()
    assert body["total"]["renewals"] == 4


def test_an_account_executive_is_refused(book, tom, api_client):
    api_client.force_authenticate(tom)
    assert api_client.get(URL, {**PERIOD, "by": "vertical"}).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-12-31", "by": "tier"}, "from"),
        ({"from": "2026-01-01", "by": "tier"}, "to"),
        ({"from": "yesterday", "to": "2026-12-31", "by": "tier"}, "from"),
        ({"from": "2026-01-01", "to": "2026-13-01", "by": "tier"}, "to"),
        ({"from": "2026-12-31", "to": "2026-01-01", "by": "tier"}, "from"),
        ({"from": "2026-01-01", "to": "2026-12-31"}, "by"),
        ({"from": "2026-01-01", "to": "2026-12-31", "by": "override_reason"}, "by"),
        ({"from": "2026-01-01", "to": "2026-12-31", "by": "name; drop table"}, "by"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(lena, api_client, params, field):
    api_client.force_authenticate(lena)
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_report_takes_a_bounded_number_of_queries(book, lena, api_client, django_assert_max_num_queries):
    api_client.force_authenticate(lena)
    for by in ("tier", "coverage", "override", "health_band", "csm"):
        with django_assert_max_num_queries(4):  # session/auth lookups aside, one report query
            assert api_client.get(URL, {**PERIOD, "by": by}).status_code == 200


# --- The leadership panel, its drill-down and CSV ----------------------------------------------------


def test_the_panel_shows_the_table_the_chart_and_links_to_the_renewals(book, lena, client):
    client.force_login(lena)
    response = client.get("/overview/retention/", {**PERIOD, "by": "vertical"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="retention-table"' in html
    assert 'data-chart="chart-retention"' in html and 'id="chart-retention"' in html
    assert "<script>" not in html.replace('<script id="chart-retention" type="application/json">', "")
    for figure in ("0.6000", "1.2000", "0.7714", "0.8571", "0.2500", "700.00"):
        assert figure in html
    assert (
        "/overview/retention/renewals/?from=2026-01-01&amp;to=2026-12-31&amp;by=vertical&amp;group=finance"
        in html
    )
    assert "/overview/retention/export.csv?from=2026-01-01&amp;to=2026-12-31&amp;by=vertical" in html


def test_the_panel_defaults_to_the_last_twelve_months_by_tier(lena, client):
    client.force_login(lena)
    html = client.get("/overview/retention/").content.decode()
    assert 'option value="tier" selected' in html
    assert "No renewals were recorded in this period." in html


def test_the_panel_names_a_bad_filter(lena, client):
    client.force_login(lena)
    response = client.get("/overview/retention/", {"from": "2026-12-31", "to": "2026-01-01", "by": "tier"})
    assert response.status_code == 400
    assert "from: The start of the period must not be after its end." in response.content.decode()


def test_the_panel_is_for_leadership(book, alice, client):
    client.force_login(alice)
    assert client.get("/overview/retention/").status_code == 403
    assert client.get("/overview/retention/renewals/").status_code == 403
    assert client.get("/overview/retention/export.csv").status_code == 403


def test_the_drilldown_lists_the_renewals_behind_a_number(book, lena, client):
    client.force_login(lena)
    response = client.get("/overview/retention/renewals/", {**PERIOD, "by": "vertical", "group": "finance"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Finance One" in html and "Finance Two" in html and "Retail One" not in html
    assert f'href="/accounts/{book["finance-1"].pk}/"' in html
    assert "contracted" in html and "churned" in html


def test_the_csv_holds_the_rows_and_the_total_with_formula_safe_cells(book, lena, client):
    Account.objects.filter(pk=book["retail-1"].pk).update(vertical="=cmd")
    client.force_login(lena)
    response = client.get("/overview/retention/export.csv", {**PERIOD, "by": "vertical"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["vertical", "renewals", "arr_before", "arr_after", "grr", "nrr", "logo_churn"]
    assert rows[1:] == [
        ["'=cmd", "1", "100.00", "100.00", "1.0000", "1.0000", "0.0000"],
        ["finance", "2", "400.00", "240.00", "0.6000", "0.6000", "0.5000"],
        ["retail", "1", "200.00", "260.00", "1.0000", "1.3000", "0.0000"],
        ["total", "4", "700.00", "600.00", "0.7714", "0.8571", "0.2500"],
    ]
    renewals = client.get(
        "/overview/retention/export.csv", {**PERIOD, "by": "vertical", "group": "finance", "rows": "renewals"}
    )
    lines = list(csv.reader(io.StringIO(b"".join(renewals.streaming_content).decode())))
    assert [line[2] for line in lines[1:]] == ["Finance One", "Finance Two"]


# --- Override accountability in the feedback report -------------------------------------------------


def test_the_feedback_report_shows_how_overridden_accounts_renewed_against_their_peers(
    book, lena, alice, client, time_machine
):
    time_machine.move_to(at_noon(dt.date(2026, 11, 22)))
    # retail-1 (renewed 100→100) overridden for executive sponsor, policy tier MM1;
    # finance-1 (contracted 300→240) renewed in MM1 under the policy: its peer.
    TierOverride.objects.create(
        account=book["retail-1"],
        tier_code="ENT",
        tier_name="Enterprise",
        tier_rank=1,
        policy_tier_code="MM1",
        policy_tier_rank=2,
        reason="executive_sponsor",
        note="Sponsor",
        expires_on=dt.date(2026, 12, 31),
        status="active",
        requested_by=alice,
        activated_at=at_noon(dt.date(2026, 1, 1)),
    )
    tier_change(book["finance-1"], "MM1", at_noon(dt.date(2025, 1, 1)))
    tier_change(book["finance-2"], "MM2", at_noon(dt.date(2025, 1, 1)))  # another tier: no peer
    client.force_login(lena)
    html = client.get("/overview/overrides/").content.decode()
    assert 'data-testid="override-evidence"' in html
    row = html.split('data-testid="override-evidence"')[1].split("</tr>")[1]
    assert "executive sponsor" in row
    assert "1 in MM1" in row
    assert row.count("1.0000") == 2 and row.count("0.8000") == 2  # overridden GRR/NRR, peer GRR/NRR


@pytest.mark.parametrize("path", ["/overview/retention/renewals/", "/overview/retention/export.csv"])
def test_the_drilldown_and_export_name_a_bad_filter(lena, client, path):
    client.force_login(lena)
    response = client.get(path, {"from": "2026-01-01", "to": "2026-12-31", "by": "planet"})
    assert response.status_code == 400
    assert response.content.decode().startswith("by: ")
