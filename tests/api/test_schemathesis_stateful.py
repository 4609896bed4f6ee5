"""Stateful API fuzzing: schemathesis chains operations through the links of the OpenAPI schema.

A create's answer feeds the next call (``POST /api/v1/accounts/`` → ``GET``/``PATCH
/api/v1/accounts/{id}/`` → the account's tier history, renewals, coverage, tier override; a task →
complete/snooze; a commitment → accept/decline; a list's results → their items), so the fuzzing
reaches object-level code with real ids instead of 404s. It runs in-process as each role (the
integration token, a CS Leadership session, a CSM's and an AE's token), with a fixed seed
(``derandomize``) and bounded examples. Every response must be a non-5xx that the schema describes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, settings

from csplatform.services import api_token_issue
from csplatform.wsgi import application
from tests.api.test_schemathesis import CHECKS
from tests.factories import AccountFactory, ContactFactory, UsageSnapshotFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# Valid data only, so that chains go on to the objects they created (the stateless fuzzing in
# test_schemathesis and the edge values in test_edge_values send the invalid data).
schema.config.generation.update(modes=["positive"], with_security_parameters=False)

STATEFUL = settings(
    max_examples=20,
    stateful_step_count=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go through the raw WSGI app, whose request signals would close the test's
    connection (in a transaction); ``test_schemathesis`` explains it."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def accounts(alice, bob, tom, lena, ivan):
    made = [
        AccountFactory(csm=alice, ae=tom, acv=acv, name=name)
        for acv, name in [(80000, "Northwind"), (20000, "Contoso"), (5000, "Fabrikam")]
    ]
    for account in made:
        ContactFactory(account=account)
        UsageSnapshotFactory(account=account)
    cache.clear()
    return made


def token(user: Any) -> dict[str, Any]:
    _, key = api_token_issue(user=user)
    return {"headers": {"Authorization": f"Token {key}"}}


def session(client: Any, user: Any) -> dict[str, Any]:
    client.force_login(user)
    csrf = "x" * 32  # the session API enforces CSRF on writes: a matching cookie and header
    return {
        "headers": {"X-CSRFToken": csrf},
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
    }


def run_as(call_kwargs: dict[str, Any]) -> Counter[tuple[str, int]]:
    """Run the state machine with ``call_kwargs`` (headers, cookies) on every call; answer what it
    called and what came back."""
    seen: Counter[tuple[str, int]] = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        # Each example starts from the fixtures' data: Hypothesis replays an example to check and
        # shrink it, and a replay that met the rows (or the throttle counts) left by the examples
        # before it would answer differently, fill other bundles and fail as "inconsistent data
        # generation" instead of testing the API.
        def setup(self) -> None:
            super().setup()
            cache.clear()
            self.example = transaction.atomic()
            self.example.__enter__()

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.example.__exit__(None, None, None)
            super().teardown()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return call_kwargs

        def after_call(self, response: Any, case: Any) -> None:
            seen[(f"{case.operation.method.upper()} {case.operation.path}", response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=STATEFUL)
    return seen


def reached_objects(seen: Counter[tuple[str, int]]) -> set[str]:
    """Operations on one object (an ``{id}`` in the path) that answered 2xx: real ids got there."""
    return {operation for (operation, status), _ in seen.items() if "{" in operation and status < 300}


def test_stateful_as_integration(accounts, ivan):
    seen = run_as(token(ivan))
    assert not [key for key in seen if key[1] >= 500]
    assert reached_objects(seen)


def test_stateful_as_leadership(accounts, lena, client):
    seen = run_as(session(client, lena))
    assert not [key for key in seen if key[1] >= 500]
    assert reached_objects(seen)


@pytest.mark.parametrize("person", ["alice", "tom"])
def test_stateful_as_csm_and_ae(accounts, person, request):
    seen = run_as(token(request.getfixturevalue(person)))
    assert not [key for key in seen if key[1] >= 500]
    assert reached_objects(seen)
