"""Machinery for the authorization matrix: every URL route, the people, and one object per kind.

``routes()`` walks the URL resolver (so a new URL shows up by itself); ``World`` holds one object
of every kind a URL can point at, all on an account that alice (CSM) and tom (AE) own; ``call``
makes one request as one role and rolls back whatever it changed, so the next role sees the same
world.

``csm_no_role`` and ``ae_no_role`` are alice and tom signed in after their role (Django group) was
taken away: the account, its task, override and add-on still name them, but they may see nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

ROLES = (
    "anonymous",
    "csm_owner",
    "csm_other",
    "ae_owner",
    "ae_other",
    "leader",
    "integration",
    "read_only",
    "csm_no_role",
    "ae_no_role",
)

# The people behind the ``*_no_role`` columns: their groups are removed for the request only.
ROLE_REMOVED = {"csm_no_role": "alice", "ae_no_role": "tom"}


def routes() -> Iterator[str]:
    """Every route of the URL configuration as its pattern text (``api/v1/accounts/<int:pk>/``).

    The admin is left out: Django's admin checks ``is_staff`` itself for every one of its URLs
    (one row covers its entry point).
    """

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    yield prefix + str(pattern.pattern)
                    continue
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    yield from walk(get_resolver().url_patterns, "/")


@dataclass
class World:
    ids: dict[str, Any]
    clients: dict[str, Any]
    people: dict[str, Any]

    def url(self, route: str) -> str:
        """The route with its parameters filled from the world (``<int:pk>`` by route prefix)."""
        path = route
        for name, value in self.ids.items():
            path = path.replace(f"<{name}>", str(value))
        return path


# Which object an ``<int:pk>`` of an API route points at, by the route's beginning.
API_PK = {
    "/api/v1/accounts/<int:pk>/": "int:account_id",
    "/api/v1/tier-reviews/": "int:review_id",
    "/api/v1/tier-overrides/": "int:override_id",
    "/api/v1/tier-proposals/": "int:change_id",
    "/api/v1/add-ons/": "int:add_on_id",
    "/api/v1/commitments/": "int:commitment_id",
    "/api/v1/tasks/": "int:task_id",
    "/api/v1/flags/": "int:flag_id",
    "/api/v1/webhooks/": "int:webhook_id",
    "/integrations/webhooks/": "int:webhook_id",
    "/api/v1/account-input-proposals/": "int:input_proposal_id",
}


def resolve_route(world: World, route: str) -> str:
    if "<int:pk>" in route:
        for prefix, key in API_PK.items():
            if route.startswith(prefix.replace("<int:pk>/", "")) or route.startswith(prefix):
                return world.url(route.replace("<int:pk>", f"<{key}>"))
        raise AssertionError(f"no object for <int:pk> in {route}: add it to API_PK")
    path = world.url(route)
    assert "<" not in path, f"no object for a parameter of {route}: add it to the world"
    return path


def build_world(people: dict[str, Any], token_client: Any) -> World:
    from accounts.models import Account, AccountInputProposal
    from engagement.journeys.unsubscribe import unsubscribe_token
    from engagement.models import Flag, HandoffCommitment, Notification, Task
    from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
    from playbooks.models import AccountAddOn, ServiceModule
    from segmentation.models import HealthScorecard, TierChange, TierOverride, TierPolicy, TierReview
    from tests.engagement.factories import CommitmentFactory, FlagFactory, TaskFactory
    from tests.factories import AccountFactory, ContactFactory
    from tests.journeys.factories import (
        EnrolmentFactory,
        JourneyFactory,
        JourneyStepFactory,
        OutboundEmailFactory,
    )

    alice, bob, tom, tina, lena, ivan = (people[n] for n in ("alice", "bob", "tom", "tina", "lena", "ivan"))
    policy = TierPolicy.objects.get(status="active")
    account: Account = AccountFactory(
        csm=alice,
        ae=tom,
        acv=Decimal("62000"),
        tier_code="MM1",
        tier_name="Mid-Market Tier 1",
        tier_rank=2,
        name="Northwind Retail",
    )
    AccountFactory(csm=bob, ae=tina, acv=Decimal("20000"), name="Contoso Other")
    contact = ContactFactory(account=account)
    review = TierReview.objects.create(
        policy=policy,
        status="finished",
        is_open=None,
        accounts_total=1,
        accounts_done=1,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    proposal = TierChange.objects.create(
        account=account,
        policy=policy,
        review=review,
        from_code="MM1",
        from_name="Mid-Market Tier 1",
        from_rank=2,
        to_code="ENT",
        to_name="Enterprise",
        to_rank=1,
        explanation="ACV rose.",
        source="review",
        status="proposed",
    )
    override = TierOverride.objects.create(
        account=account,
        tier_code="ENT",
        tier_name="Enterprise",
        tier_rank=1,
        policy_tier_code="MM1",
        policy_tier_rank=2,
        reason="at_risk",
        note="Escalation",
        expires_on=timezone.localdate() + dt.timedelta(days=90),
        status="pending",
        needs_approval=True,
        requested_by=alice,
    )
    input_proposal = AccountInputProposal.objects.create(
        account=account,
        changes={"acv": "90000.00"},
        previous={"acv": "62000.00"},
        requested_by=alice,
        source="api",
    )
    module = ServiceModule.objects.order_by("id").first()
    add_on = AccountAddOn.objects.create(
        account=account, module=module, cadence_days=30, starts_on=timezone.localdate(), requested_by=alice
    )
    task: Task = TaskFactory(account=account, assignee=alice)
    flag: Flag = FlagFactory(account=account)
    commitment: HandoffCommitment = CommitmentFactory(account=account)
    journey = JourneyFactory(code="matrix-journey", tier_code="MM3")
    step = JourneyStepFactory(journey=journey, position=1)
    enrolment = EnrolmentFactory(journey=journey, contact=contact)
    outbound = OutboundEmailFactory(enrolment=enrolment, step=step, status="failed")
    webhook = WebhookEndpoint.objects.create(
        url="https://crm.example.com/hooks", events=["flag.raised"], secret="whsec_QUFBQQ==", created_by=ivan
    )
    message = WebhookMessage.objects.create(
        webhook_id="msg_matrix", event="flag.raised", body="{}", created_at=timezone.now()
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=webhook,
        message=message,
        status="failed",
        retry_until=timezone.now(),
        created_at=timezone.now(),
    )
    notification = Notification.objects.create(
        recipient=alice,
        kind="flag_raised",
        key=f"flag:{flag.pk}",
        title="Usage drop",
        account=account,
        created_at=timezone.now(),
    )
    from csplatform.models import SavedView

    saved_view = SavedView.objects.create(
        user=alice, page="worklist", name="Renewing soon", query="renewal_within=90"
    )
    ids = {
        "int:view_id": saved_view.pk,
        "int:account_id": account.pk,
        "int:review_id": review.pk,
        "int:change_id": proposal.pk,
        "int:override_id": override.pk,
        "int:policy_id": policy.pk,
        "int:scorecard_id": HealthScorecard.objects.get(status="active").pk,
        "int:add_on_id": add_on.pk,
        "int:task_id": task.pk,
        "int:flag_id": flag.pk,
        "int:commitment_id": commitment.pk,
        "int:journey_id": journey.pk,
        "int:step_id": step.pk,
        "int:outbound_id": outbound.pk,
        # No email of the world was interrupted in this claim: a leader's decision is refused (422).
        "uuid:claim_token": "5a3c4e2b-8f1d-4c6a-9b7e-2d0f1a3b5c7d",
        "int:enrolment_id": enrolment.pk,
        "int:webhook_id": webhook.pk,
        "int:delivery_id": delivery.pk,
        "int:notification_id": notification.pk,
        "int:input_proposal_id": input_proposal.pk,
        "str:reason": "at_risk",
        "str:quadrant": "high_revenue_low_cost",
        "str:token": unsubscribe_token(contact_id=contact.pk),
        "external_id": account.external_id,
        "tier_pk": policy.tiers.order_by("rank").first().pk,
        "module_code": module.code,
    }
    clients: dict[str, Any] = {"anonymous": APIClient()}
    for role, user in (
        ("csm_owner", alice),
        ("csm_other", bob),
        ("ae_owner", tom),
        ("ae_other", tina),
        ("leader", lena),
        ("csm_no_role", alice),
        ("ae_no_role", tom),
    ):
        client = APIClient()
        client.force_login(user)
        clients[role] = client
    clients["integration"] = token_client(ivan)
    clients["read_only"] = token_client(ivan, read_only=True)
    for client in clients.values():
        client.raise_request_exception = False  # a 500 is a status like any other here
    return World(ids=ids, clients=clients, people=people)


def payload(world: World, method: str, route: str) -> dict[str, Any]:
    """A valid body for an API write, so that a permission checked after validation shows."""
    account, ext = world.ids["int:account_id"], world.ids["external_id"]
    today = timezone.localdate()
    later = (today + dt.timedelta(days=30)).isoformat()
    bodies: dict[str, dict[str, Any]] = {
        "POST /api/v1/accounts/": {"crm_source": "manual", "external_id": "M-1", "name": "New Co"},
        "PATCH /api/v1/accounts/<int:pk>/": {"vertical": "media"},
        "PUT /api/v1/notification-preferences/": {
            "digest_frequency": "daily",
            "digest_hour": 7,
            "digest_items": [],
            "in_app": [],
        },
        "POST /api/v1/accounts/sync/": {
            "crm_source": "salesforce",
            "records": [{"external_id": "S-1", "name": "S"}],
        },
        "POST /api/v1/contacts/sync/": {
            "crm_source": "salesforce",
            "records": [{"external_id": ext, "email": "new@customer.example", "name": "New Person"}],
        },
        "POST /api/v1/metrics/sync/": {
            "crm_source": "salesforce",
            "records": [
                {
                    "external_id": ext,
                    "period_start": "2026-11-09",
                    "active_users": 3,
                    "licensed_seats": 5,
                    "support_tickets": 0,
                    "feature_adoption": "0.50",
                }
            ],
        },
        "POST /api/v1/renewals/sync/": {
            "crm_source": "salesforce",
            "records": [
                {
                    "external_id": ext,
                    "renewal_date": "2026-10-31",
                    "outcome": "expanded",
                    "arr_before": "62000.00",
                    "arr_after": "70000.00",
                    "churn_reason": None,
                    "note": "Added 20 seats",
                }
            ],
        },
        "POST /api/v1/accounts/<int:pk>/tier-override/": {
            "tier": "ENT",
            "reason": "at_risk",
            "note": "Escalation",
            "expires_on": later,
        },
        "POST /api/v1/tier-overrides/<int:pk>/approve/": {"note": "Agreed"},
        "POST /api/v1/tier-overrides/<int:pk>/decline/": {"note": "No"},
        "POST /api/v1/tier-proposals/<int:pk>/reject/": {
            "reason": "at_risk",
            "note": "Keep it",
            "expires_on": later,
        },
        "POST /api/v1/entitlements/": {
            "tier": world.ids["tier_pk"],
            "module": world.ids["module_code"],
            "cadence_days": 45,
        },
        "POST /api/v1/add-ons/": {"account": account, "module": world.ids["module_code"], "cadence_days": 30},
        "POST /api/v1/add-ons/<int:pk>/decide/": {"approve": True, "reason": "Strategic"},
        "POST /api/v1/touchpoints/": {
            "account": account,
            "kind": "call",
            "occurred_at": timezone.now().isoformat(),
            "minutes": 30,
        },
        "POST /api/v1/commitments/": {
            "account": account,
            "description": "Weekly calls",
            "deal_reference": "D-1",
        },
        "POST /api/v1/commitments/<int:pk>/accept/": {"until": later, "note": "OK"},
        "POST /api/v1/commitments/<int:pk>/decline/": {"reason": "Out of tier"},
        "POST /api/v1/tasks/": {"account": account, "title": "Call", "due_on": later},
        "POST /api/v1/tasks/<int:pk>/snooze/": {"until": later, "reason": "Waiting"},
        "POST /api/v1/flags/<int:pk>/resolve/": {"note": "Handled"},
        "POST /api/v1/touchpoints/sync/": {
            "crm_source": "salesforce",
            "records": [
                {
                    "external_id": "ACT-1",
                    "account_external_id": ext,
                    "kind": "call",
                    "occurred_at": timezone.now().isoformat(),
                    "minutes": 20,
                    "by": "alice",
                }
            ],
        },
        "POST /api/v1/webhooks/": {"url": "https://crm.example.com/new", "events": ["renewal.recorded"]},
        "PATCH /api/v1/webhooks/<int:pk>/": {"description": "ERP"},
    }
    return bodies.get(f"{method} {route}", {})


# Query parameters a GET route needs to answer with its content rather than a 400.
GET_QUERY = {
    "/api/v1/reports/retention/": {"from": "2026-01-01", "to": "2026-12-31", "by": "tier"},
}


def call(world: World, role: str, method: str, route: str, body: dict[str, Any] | None = None) -> int:
    """One request as ``role``; everything it changed is rolled back afterwards."""
    return request(world, role, method, route, body).status_code


def request(world: World, role: str, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
    """``call``, answering the whole response (to look at what it shows)."""
    client: Client = world.clients[role]
    path = resolve_route(world, route)
    is_api = route.startswith("/api/")
    cookies = copy.deepcopy(client.cookies)  # signing out (or in) must not leak into the next call
    with transaction.atomic():
        if role in ROLE_REMOVED:
            world.people[ROLE_REMOVED[role]].groups.clear()
        if method == "GET":
            response = client.get(path, GET_QUERY.get(route, {}))
        elif is_api:
            data = payload(world, method, route) if body is None else body
            response = getattr(client, method.lower())(path, data, format="json")
        else:
            response = getattr(client, method.lower())(path, {})
        transaction.set_rollback(True)
    client.cookies = cookies
    return response
