"""Values at and beyond the edges, through every write and every filter: never a 500.

A property-based test (hypothesis, fixed seed, bounded examples) takes each API write of the
authorization matrix with its valid body, and each page form, and replaces one field (or a field of
the first sync record) with a value from the edges: integers beyond 32 and 64 bits, numbers that
are not numbers, dates at the ends of the calendar and past them, deep JSON, wrong types. It sends
each GET route of the matrix the query parameters the product reads, with the same values as text.
Every answer must be below 500, and a refused write must change nothing (the request runs in a
transaction that is rolled back either way, so examples do not leak into each other).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.matrix import build_world, payload, resolve_route
from tests.security.test_authorization_matrix import EXPECTED

INTS = [0, -1, 1, 2**15, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1]
NUMBER_TEXTS = ["1e308", "-1e308", "NaN", "Infinity", "-Infinity", "1e-400", "9" * 60, "0x10", " 7 ", "١٢"]
DATES = ["0001-01-01", "9999-12-31", "10000-01-01", "0000-01-01", "2026-02-30", "-0001-01-01", "2199-12-31"]
DATETIMES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999Z",
    "2026-01-01T00:00:00+99:00",
    "2026-01-01T25:00:00Z",
]
ODD = [None, True, "", "x" * 300, [], {}, [1, 2], {"a": 1}, "\x00", "<script>"]
EDGE_SCALARS = INTS + NUMBER_TEXTS + DATES + DATETIMES + ODD


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


edge_values = st.one_of(
    st.sampled_from(EDGE_SCALARS),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([deep(30), deep(200)]),
)
query_values = st.one_of(
    st.sampled_from([str(v) for v in INTS] + NUMBER_TEXTS + DATES + DATETIMES + ["", "x" * 300, "\x00", "-"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)

# Fields a write may carry beyond its minimal valid body (numbers, dates and ids the API reads).
EXTRA_FIELDS = {
    "POST /api/v1/touchpoints/": ["minutes", "occurred_at", "participants", "account"],
    "POST /api/v1/tasks/": ["estimated_minutes", "due_on", "account", "checklist"],
    "POST /api/v1/commitments/": ["cadence_days", "account", "module"],
    "POST /api/v1/add-ons/": ["cadence_days", "account"],
    "POST /api/v1/entitlements/": ["cadence_days", "tier"],
    "POST /api/v1/accounts/": ["acv", "contract_start", "renewal_date", "csm"],
    "PATCH /api/v1/accounts/<int:pk>/": ["acv", "contract_start", "renewal_date", "name"],
    "POST /api/v1/accounts/<int:pk>/tier-override/": ["expires_on", "tier"],
    "POST /api/v1/tier-proposals/<int:pk>/reject/": ["expires_on"],
    "POST /api/v1/commitments/<int:pk>/accept/": ["until"],
    "POST /api/v1/tasks/<int:pk>/snooze/": ["until"],
    "POST /api/v1/accounts/sync/": ["acv", "contract_start", "renewal_date"],
    "POST /api/v1/metrics/sync/": ["active_users", "licensed_seats", "support_tickets", "feature_adoption"],
    "POST /api/v1/renewals/sync/": ["renewal_date", "arr_before", "arr_after"],
}

# The role that may do each write (so the edge value, not a permission, decides the answer).
WRITER = {"integration": ("/sync/",), "csm_owner": ("/tasks/", "/touchpoints/", "/tier-proposals/")}


def writer_for(route: str) -> str:
    for role, markers in WRITER.items():
        if any(marker in route for marker in markers):
            return role
    return "leader"


API_WRITES = [(m, r) for m, r, _ in EXPECTED if m != "GET" and r.startswith("/api/")]
GETS = [r for m, r, _ in EXPECTED if m == "GET"]

# Query parameters the product reads somewhere (API filters, page filters, pagination).
QUERY_PARAMS = [
    "account",
    "status",
    "from",
    "to",
    "by",
    "group",
    "rows",
    "csm",
    "ae",
    "tier",
    "flag",
    "search",
    "health_band",
    "updated_since",
    "ordering",
    "page",
    "page_size",
    "cursor",
    "contact",
    "q",
    "stage",
    "region",
    "days",
]

FUZZ = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def world(alice, bob, tom, tina, lena, ivan, token_client):
    people = {"alice": alice, "bob": bob, "tom": tom, "tina": tina, "lena": lena, "ivan": ivan}
    world = build_world(people, token_client)
    for client in world.clients.values():
        client.raise_request_exception = True  # a 500 fails with its traceback
    return world


def send(world: Any, role: str, method: str, route: str, body: Any) -> Any:
    client = world.clients[role]
    with transaction.atomic():
        response = client.generic(
            method, resolve_route(world, route), json.dumps(body), content_type="application/json"
        )
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize(("method", "route"), API_WRITES, ids=[f"{m} {r}" for m, r in API_WRITES])
@FUZZ
@given(data=st.data())
def test_an_api_write_never_answers_500(world, method, route, data):
    body = payload(world, method, route)
    target = body["records"][0] if "records" in body else body
    fields = sorted({*target, *EXTRA_FIELDS.get(f"{method} {route}", [])}) or ["note"]
    field = data.draw(st.sampled_from(fields), label="field")
    target[field] = data.draw(edge_values, label="value")
    response = send(world, writer_for(route), method, route, body)
    import os

    if os.environ.get("EDGE_DEBUG"):
        print(
            "EDGE",
            method,
            route,
            field,
            repr(target[field])[:40],
            response.status_code,
            response.content[:150],
        )
    assert response.status_code < 500, (field, target[field], response.content[:500])


def page_forms(world: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each page form that takes numbers or dates: the role that may post it and a valid form."""
    later = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    return {
        "/accounts/<int:account_id>/touchpoints/new/": (
            "csm_owner",
            {"kind": "call", "occurred_at": "2026-11-20T10:00", "minutes": "30", "module": "", "notes": ""},
        ),
        "/tasks/<int:task_id>/snooze/": ("csm_owner", {"until": later, "reason": "Waiting"}),
        "/accounts/<int:account_id>/override/": (
            "csm_owner",
            {"tier": "ENT", "reason": "at_risk", "note": "Escalation", "expires_on": later},
        ),
        "/proposals/<int:change_id>/dispute/": (
            "csm_owner",
            {"reason": "at_risk", "note": "Keep it", "expires_on": later},
        ),
        "/accounts/<int:account_id>/renewals/": (
            "csm_owner",
            {
                "renewal_date": "2026-10-31",
                "outcome": "renewed",
                "arr_before": "100.00",
                "arr_after": "100.00",
                "churn_reason": "",
                "note": "",
            },
        ),
        "/handoffs/<int:account_id>/": (
            "ae_owner",
            {"module": "qbr", "cadence_days": "30", "description": "", "deal_reference": "D-1", "note": ""},
        ),
        "/policies/<int:policy_id>/entitlements/": (
            "leader",
            {"tier": str(world.ids["tier_pk"]), "module": world.ids["module_code"], "cadence_days": "30"},
        ),
        "/journeys/<int:journey_id>/steps/new/": (
            "leader",
            {
                "name": "Welcome",
                "delay_days": "1",
                "delay_hours": "0",
                "delay_from": "enrolment",
                "subject_template": "Welcome",
                "body_text_template": "Hi,\n\n{{ links.unsubscribe }}\n",
                "body_html_template": "",
                "skip_condition": "",
                "module_code": "",
            },
        ),
        "/journeys/settings/": ("leader", {"paused_reason": "", "weekly_cap": "3"}),
        "/commitments/<int:commitment_id>/decide/": (
            "leader",
            {"decision": "approve", "until": later, "note": "", "reason": ""},
        ),
        "/add-ons/<int:add_on_id>/decide/": ("leader", {"decision": "approve", "reason": "Strategic"}),
    }


PAGE_FORM_ROUTES = [
    "/accounts/<int:account_id>/touchpoints/new/",
    "/tasks/<int:task_id>/snooze/",
    "/accounts/<int:account_id>/override/",
    "/proposals/<int:change_id>/dispute/",
    "/accounts/<int:account_id>/renewals/",
    "/handoffs/<int:account_id>/",
    "/policies/<int:policy_id>/entitlements/",
    "/journeys/<int:journey_id>/steps/new/",
    "/journeys/settings/",
    "/commitments/<int:commitment_id>/decide/",
    "/add-ons/<int:add_on_id>/decide/",
]


@pytest.mark.parametrize("route", PAGE_FORM_ROUTES)
@FUZZ
@given(data=st.data())
def test_a_page_form_never_answers_500(world, route, data):
    role, form = page_forms(world)[route]
    form = dict(form)
    field = data.draw(st.sampled_from(sorted(form)), label="field")
    form[field] = data.draw(query_values, label="value")
    client = world.clients[role]
    with transaction.atomic():
        response = client.post(resolve_route(world, route), form)
        transaction.set_rollback(True)
    assert response.status_code < 500, (field, form[field], response.content[:500])


@pytest.mark.parametrize("route", GETS)
@FUZZ
@given(data=st.data())
def test_a_filter_never_answers_500(world, route, data):
    params = data.draw(
        st.dictionaries(st.sampled_from(QUERY_PARAMS), query_values, min_size=1, max_size=3), label="params"
    )
    role = "integration" if route.startswith("/api/") and "worklist" not in route else "leader"
    client = world.clients["csm_owner" if "worklist" in route else role]
    with transaction.atomic():
        response = client.get(resolve_route(world, route), params)
        transaction.set_rollback(True)
    assert response.status_code < 500, (params, response.content[:500])
