"""Authorization matrix: every URL (pages, HTMX fragments, API operations) x every role.

One table: for each route and method, the status each role gets, in the order of ``ROLES``:
anonymous, CSM owning the account, another CSM, AE owning it, another AE, CS Leadership,
Integration token, read-only token, then alice and tom again after their role was removed (they
still own the account). Objects in URLs all belong to an account alice (CSM) and tom (AE) own.
API writes send a valid body, so a permission checked after validation still shows; an account
named in a body that the person may not see is "unknown" (400), exactly like one that does not
exist (``test_no_oracle``). Pages ignore
API tokens (they are anonymous there: 302 to the sign-in page).

The routes are read from the URL resolver: a new URL without a row here fails the test, and a
row for a URL that no longer exists fails too.
"""

from __future__ import annotations

import pytest

from tests.security.matrix import ROLE_REMOVED, ROLES, build_world, call, request, routes

# fmt: off
EXPECTED = [
    ("GET", "/", "302 200 200 200 200 200 302 302 403 403"),
    ("GET", "/overview/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/health/", "200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/ready/", "200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/login/", "200 302 302 302 302 302 200 200 302 302"),
    ("POST", "/logout/", "302 302 302 302 302 302 302 302 302 302"),
    ("POST", "/approvals/commitments/", "302 403 403 403 403 422 302 302 403 403"),
    ("POST", "/approvals/overrides/", "302 403 403 403 403 422 302 302 403 403"),
    ("POST", "/approvals/add-ons/", "302 403 403 403 403 422 302 302 403 403"),
    ("GET", "/search/", "302 200 200 200 200 200 302 302 403 403"),
    ("POST", "/saved-views/", "302 400 400 400 400 400 302 302 403 403"),
    ("POST", "/saved-views/<int:view_id>/delete/", "302 302 404 404 404 404 302 302 403 403"),
    ("GET", "/admin/", "302 302 302 302 302 302 302 302 302 302"),
    ("GET", "/api/schema/", "200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/docs/", "302 200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/accounts/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/accounts/", "401 403 403 403 403 201 201 403 403 403"),
    ("POST", "/api/v1/accounts/sync/", "401 403 403 403 403 403 200 403 403 403"),
    ("GET", "/api/v1/accounts/<int:pk>/", "401 200 404 200 404 200 200 200 403 403"),
    ("PATCH", "/api/v1/accounts/<int:pk>/", "401 200 404 403 404 200 200 403 403 403"),
    ("GET", "/api/v1/account-input-proposals/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/account-input-proposals/<int:pk>/approve/", "401 403 404 403 404 200 403 403 403 403"),
    ("POST", "/api/v1/account-input-proposals/<int:pk>/decline/", "401 403 404 403 404 200 403 403 403 403"),
    ("POST", "/api/v1/contacts/sync/", "401 403 403 403 403 403 200 403 403 403"),
    ("POST", "/api/v1/metrics/sync/", "401 403 403 403 403 403 200 403 403 403"),
    ("GET", "/api/v1/accounts/<int:pk>/renewals/", "401 200 404 200 404 200 200 200 403 403"),
    ("POST", "/api/v1/renewals/sync/", "401 403 403 403 403 403 200 403 403 403"),
    ("GET", "/api/v1/tiers/", "401 200 200 200 200 200 200 200 403 403"),
    ("GET", "/api/v1/accounts/<int:pk>/tier-history/", "401 200 404 200 404 200 200 200 403 403"),
    ("GET", "/api/v1/accounts/<int:pk>/health-history/", "401 200 404 200 404 200 200 200 403 403"),
    ("GET", "/api/v1/health-scorecards/", "401 200 200 403 403 200 403 403 403 403"),
    ("POST", "/api/v1/accounts/<int:pk>/tier-override/", "401 400 404 403 404 400 403 403 403 403"),
    ("POST", "/api/v1/tier-reviews/", "401 403 403 403 403 202 202 403 403 403"),
    ("GET", "/api/v1/tier-reviews/<int:pk>/", "401 403 403 403 403 200 200 200 403 403"),
    ("GET", "/api/v1/tier-overrides/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/tier-overrides/<int:pk>/approve/", "401 403 404 403 404 200 403 403 403 403"),
    ("POST", "/api/v1/tier-overrides/<int:pk>/decline/", "401 403 404 403 404 200 403 403 403 403"),
    ("GET", "/api/v1/tier-proposals/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/tier-proposals/<int:pk>/accept/", "401 200 404 404 404 200 404 403 403 403"),
    ("POST", "/api/v1/tier-proposals/<int:pk>/reject/", "401 400 404 404 404 400 404 403 403 403"),
    ("GET", "/api/v1/modules/", "401 200 200 200 200 200 200 200 403 403"),
    ("GET", "/api/v1/entitlements/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/entitlements/", "401 403 403 403 403 201 403 403 403 403"),
    ("GET", "/api/v1/add-ons/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/add-ons/", "401 400 400 400 400 400 403 403 403 403"),
    ("POST", "/api/v1/add-ons/<int:pk>/decide/", "401 403 404 403 404 200 403 403 403 403"),
    ("GET", "/api/v1/touchpoints/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/touchpoints/", "401 201 400 201 400 201 403 403 403 403"),
    ("POST", "/api/v1/touchpoints/sync/", "401 403 403 403 403 403 200 403 403 403"),
    ("GET", "/api/v1/webhooks/", "401 403 403 403 403 200 200 200 403 403"),
    ("POST", "/api/v1/webhooks/", "401 403 403 403 403 201 201 403 403 403"),
    ("GET", "/api/v1/webhooks/<int:pk>/", "401 403 403 403 403 200 200 200 403 403"),
    ("PATCH", "/api/v1/webhooks/<int:pk>/", "401 403 403 403 403 200 200 403 403 403"),
    ("DELETE", "/api/v1/webhooks/<int:pk>/", "401 403 403 403 403 204 204 403 403 403"),
    ("GET", "/api/v1/webhooks/<int:pk>/deliveries/", "401 403 403 403 403 200 200 200 403 403"),
    ("POST", "/api/v1/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/", "401 403 403 403 403 202 202 403 403 403"),  # noqa: E501
    ("GET", "/api/v1/commitments/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/commitments/", "401 403 400 201 400 201 403 403 403 403"),
    ("POST", "/api/v1/commitments/<int:pk>/accept/", "401 403 404 403 404 200 403 403 403 403"),
    ("POST", "/api/v1/commitments/<int:pk>/decline/", "401 403 404 403 404 200 403 403 403 403"),
    ("GET", "/api/v1/tasks/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/tasks/", "401 201 400 201 400 201 403 403 403 403"),
    ("POST", "/api/v1/tasks/<int:pk>/complete/", "401 200 404 403 404 200 403 403 403 403"),
    ("POST", "/api/v1/tasks/<int:pk>/snooze/", "401 200 404 403 404 200 403 403 403 403"),
    ("GET", "/api/v1/flags/", "401 200 200 200 200 200 200 200 403 403"),
    ("POST", "/api/v1/flags/<int:pk>/resolve/", "401 200 404 403 404 200 403 403 403 403"),
    ("GET", "/api/v1/accounts/<int:pk>/csm-suggestions/", "401 403 403 403 403 200 403 403 403 403"),
    ("GET", "/api/v1/accounts/<int:pk>/coverage/", "401 200 404 200 404 200 200 200 403 403"),
    ("GET", "/api/v1/worklist/", "401 200 200 403 403 400 403 403 403 403"),
    ("GET", "/api/v1/capacity/", "401 200 200 403 403 200 403 403 403 403"),
    ("GET", "/api/v1/reports/retention/", "401 200 200 403 403 200 200 200 403 403"),
    ("GET", "/accounts/", "302 200 200 200 200 200 302 302 403 403"),
    ("GET", "/accounts/export.csv", "302 200 200 200 200 200 302 302 403 403"),
    ("GET", "/accounts/<int:account_id>/", "302 200 404 200 404 200 302 302 404 404"),
    ("POST", "/input-proposals/<int:input_proposal_id>/decide/", "302 403 403 403 403 400 302 302 403 403"),
    ("GET", "/accounts/<int:account_id>/renewals/", "302 200 404 200 404 200 302 302 404 404"),
    ("GET", "/accounts/<int:account_id>/health/", "302 200 404 200 404 200 302 302 404 404"),
    ("POST", "/accounts/<int:account_id>/renewals/", "302 422 404 403 404 422 302 302 404 404"),
    ("GET", "/accounts/<int:account_id>/tier/", "302 200 404 200 404 200 302 302 404 404"),
    ("GET", "/accounts/<int:account_id>/override/", "302 200 404 200 404 200 302 302 404 404"),
    ("POST", "/accounts/<int:account_id>/override/", "302 422 404 422 404 422 302 302 404 404"),
    ("POST", "/proposals/<int:change_id>/accept/", "302 302 404 403 404 302 302 302 404 404"),
    ("GET", "/proposals/<int:change_id>/dispute/", "302 200 404 200 404 200 302 302 404 404"),
    ("POST", "/proposals/<int:change_id>/dispute/", "302 422 404 422 404 422 302 302 404 404"),
    ("GET", "/overrides/<int:override_id>/decide/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/overrides/<int:override_id>/decide/", "302 403 403 403 403 400 302 302 403 403"),
    ("GET", "/policies/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/policies/new/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/policies/new/", "302 403 403 403 403 302 302 302 403 403"),
    ("GET", "/policies/<int:policy_id>/", "302 403 403 403 403 200 302 302 403 403"),
    ("POST", "/policies/<int:policy_id>/", "302 403 403 403 403 409 302 302 403 403"),
    ("POST", "/policies/<int:policy_id>/validate/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/policies/<int:policy_id>/simulate/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/policies/<int:policy_id>/simulate/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/policies/<int:policy_id>/activate/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/policies/<int:policy_id>/activate/", "302 403 403 403 403 409 302 302 403 403"),
    ("GET", "/health-scorecards/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/health-scorecards/new/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/health-scorecards/new/", "302 403 403 403 403 302 302 302 403 403"),
    ("GET", "/health-scorecards/<int:scorecard_id>/", "302 403 403 403 403 200 302 302 403 403"),
    ("POST", "/health-scorecards/<int:scorecard_id>/", "302 403 403 403 403 409 302 302 403 403"),
    ("GET", "/health-scorecards/<int:scorecard_id>/backtest/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/health-scorecards/<int:scorecard_id>/fit/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/health-scorecards/<int:scorecard_id>/fit/", "302 403 403 403 403 302 302 302 403 403"),
    ("GET", "/health-scorecards/<int:scorecard_id>/activate/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/health-scorecards/<int:scorecard_id>/activate/", "302 403 403 403 403 409 302 302 403 403"),
    ("GET", "/reviews/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/reviews/start/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/reviews/start/", "302 403 403 403 403 302 302 302 403 403"),
    ("GET", "/reviews/<int:review_id>/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/reviews/<int:review_id>/progress/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/tier-distribution/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/migrations/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/overrides/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/economics/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/economics/scatter/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/migrations/<int:review_id>/accounts/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/overrides/<str:reason>/accounts/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/quadrants/<str:quadrant>/accounts/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/policies/<int:policy_id>/entitlements/", "302 403 403 403 403 200 302 302 403 403"),
    ("POST", "/policies/<int:policy_id>/entitlements/", "302 403 403 403 403 409 302 302 403 403"),
    ("GET", "/add-ons/<int:add_on_id>/decide/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/add-ons/<int:add_on_id>/decide/", "302 403 403 403 403 400 302 302 403 403"),
    ("GET", "/worklist/", "302 200 200 403 403 200 302 302 403 403"),
    ("GET", "/worklist/capacity/", "302 200 200 403 403 200 302 302 403 403"),
    ("GET", "/accounts/<int:account_id>/touchpoints/new/", "302 200 404 200 404 200 302 302 404 404"),
    ("POST", "/accounts/<int:account_id>/touchpoints/new/", "302 422 404 422 404 422 302 302 404 404"),
    ("POST", "/tasks/<int:task_id>/complete/", "302 302 404 403 404 302 302 302 404 404"),
    ("GET", "/tasks/<int:task_id>/snooze/", "302 200 404 403 404 200 302 302 404 404"),
    ("POST", "/tasks/<int:task_id>/snooze/", "302 422 404 403 404 422 302 302 404 404"),
    ("GET", "/handoffs/", "302 403 403 200 200 200 302 302 403 403"),
    ("GET", "/handoffs/<int:account_id>/", "302 403 403 200 404 200 302 302 403 403"),
    ("POST", "/handoffs/<int:account_id>/", "302 403 403 422 404 422 302 302 403 403"),
    ("POST", "/handoffs/<int:account_id>/check/", "302 403 403 200 404 200 302 302 403 403"),
    ("GET", "/worklist/rows/<int:account_id>/", "302 200 404 200 404 200 302 302 404 404"),
    ("GET", "/accounts/<int:account_id>/coverage/", "302 200 404 200 404 200 302 302 404 404"),
    ("GET", "/accounts/<int:account_id>/tasks/", "302 200 404 200 404 200 302 302 404 404"),
    ("GET", "/accounts/<int:account_id>/commitments/", "302 200 404 200 404 200 302 302 404 404"),
    ("GET", "/accounts/<int:account_id>/timeline/", "302 200 404 200 404 200 302 302 404 404"),
    ("GET", "/approvals/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/commitments/<int:commitment_id>/decide/", "302 403 403 403 403 405 302 302 403 403"),
    ("POST", "/commitments/<int:commitment_id>/decide/", "302 403 403 403 403 302 302 302 403 403"),
    ("GET", "/overview/coverage/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/coverage/overdue/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/commitments/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/capacity/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/retention/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/retention/renewals/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/overview/retention/export.csv", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/journeys/", "302 200 200 403 403 200 302 302 403 403"),
    ("POST", "/journeys/settings/", "302 403 403 403 403 302 302 302 403 403"),
    ("GET", "/journeys/review/", "302 403 403 403 403 200 302 302 403 403"),
    ("POST", "/journeys/review/<int:outbound_id>/", "302 403 403 403 403 422 302 302 403 403"),
    ("POST", "/journeys/review/batches/<uuid:claim_token>/", "302 403 403 403 403 422 302 302 403 403"),
    ("GET", "/journeys/new/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/journeys/<int:journey_id>/", "302 200 200 403 403 200 302 302 403 403"),
    ("POST", "/journeys/<int:journey_id>/", "302 403 403 403 403 200 302 302 403 403"),
    ("POST", "/journeys/<int:journey_id>/pause/", "302 403 403 403 403 302 302 302 403 403"),
    ("POST", "/journeys/<int:journey_id>/resume/", "302 403 403 403 403 302 302 302 403 403"),
    ("GET", "/journeys/<int:journey_id>/steps/new/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/journeys/<int:journey_id>/steps/<int:step_id>/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/journeys/<int:journey_id>/steps/<int:step_id>/preview/", "302 200 200 403 403 200 302 302 403 403"),  # noqa: E501
    ("GET", "/journeys/<int:journey_id>/steps/<int:step_id>/email/", "302 200 200 403 403 200 302 302 403 403"),  # noqa: E501
    ("GET", "/journeys/<int:journey_id>/dry-run/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/journeys/<int:journey_id>/results/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/accounts/<int:account_id>/journeys/", "302 200 404 200 404 200 302 302 404 404"),
    ("POST", "/accounts/<int:account_id>/journeys/enrol/", "302 302 404 403 404 302 302 302 404 404"),
    ("POST", "/accounts/<int:account_id>/journeys/stop/", "302 302 404 403 404 302 302 302 404 404"),
    ("POST", "/enrolments/<int:enrolment_id>/stop/", "302 302 404 403 404 302 302 302 404 404"),
    ("GET", "/api/v1/survey-responses/", "401 200 200 200 200 200 200 200 403 403"),
    ("GET", "/api/v1/notification-preferences/", "401 200 200 200 200 200 200 200 403 403"),
    ("PUT", "/api/v1/notification-preferences/", "401 200 200 200 200 200 200 403 403 403"),
    ("GET", "/overview/satisfaction/", "302 403 403 403 403 200 302 302 403 403"),
    ("GET", "/notifications/", "302 200 200 200 200 200 302 302 403 403"),
    ("GET", "/notifications/bell/", "302 200 200 200 200 200 302 302 403 403"),
    ("POST", "/notifications/read-all/", "302 302 302 302 302 302 302 302 403 403"),
    ("POST", "/notifications/<int:notification_id>/read/", "302 302 302 302 302 302 302 302 403 403"),
    ("GET", "/notifications/preferences/", "302 200 200 200 200 200 302 302 403 403"),
    ("POST", "/notifications/preferences/", "302 422 422 422 422 422 302 302 403 403"),
    # The link's signed token is the proof (the matrix's token is an unsubscribe one: refused).
    ("GET", "/survey/<str:token>/", "400 400 400 400 400 400 400 400 400 400"),
    ("POST", "/survey/<str:token>/", "400 400 400 400 400 400 400 400 400 400"),
    ("GET", "/unsubscribe/<str:token>/", "200 200 200 200 200 200 200 200 200 200"),
    ("POST", "/unsubscribe/<str:token>/", "200 200 200 200 200 200 200 200 200 200"),
    ("GET", "/integrations/webhooks/", "302 403 403 403 403 200 302 302 403 403"),
    ("POST", "/integrations/webhooks/", "302 403 403 403 403 400 302 302 403 403"),
    ("GET", "/integrations/webhooks/<int:pk>/", "302 403 403 403 403 200 302 302 403 403"),
    ("POST", "/integrations/webhooks/<int:pk>/", "302 403 403 403 403 400 302 302 403 403"),
    ("POST", "/integrations/webhooks/<int:pk>/delete/", "302 403 403 403 403 302 302 302 403 403"),
    ("POST", "/integrations/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/", "302 403 403 403 403 302 302 302 403 403"),  # noqa: E501
    # The email provider's tracking webhooks: basic auth with ANYMAIL_WEBHOOK_SECRET, never a login.
    ("POST", "/anymail/amazon_ses/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/brevo/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/mailersend/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/mailgun/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/mailjet/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/mailtrap/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/postal/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/postmark/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/resend/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/sendgrid/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/sendinblue/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/sparkpost/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/unisender_go/tracking/", "401 401 401 401 401 401 401 401 401 401"),
    ("POST", "/anymail/mandrill/tracking/", "401 401 401 401 401 401 401 401 401 401"),
]
# fmt: on


@pytest.fixture
def world(alice, bob, tom, tina, lena, ivan, token_client):
    people = {"alice": alice, "bob": bob, "tom": tom, "tina": tina, "lena": lena, "ivan": ivan}
    return build_world(people, token_client)


def test_every_route_has_a_row_and_every_row_a_route():
    covered = {route for _, route, _ in EXPECTED}
    existing = set(routes())
    assert existing - covered == set(), "routes without a row in the authorization matrix"
    assert covered - existing == set(), "rows for routes that no longer exist"


@pytest.mark.parametrize(("method", "route", "statuses"), EXPECTED, ids=[f"{m} {r}" for m, r, _ in EXPECTED])
def test_authorization_matrix(world, method, route, statuses):
    expected = dict(zip(ROLES, (int(s) for s in statuses.split()), strict=True))
    actual = {role: call(world, role, method, route) for role in ROLES}
    assert actual == expected


@pytest.mark.parametrize(("method", "route", "statuses"), EXPECTED, ids=[f"{m} {r}" for m, r, _ in EXPECTED])
def test_a_person_whose_role_was_removed_is_refused_every_route_that_is_not_public(method, route, statuses):
    """The table itself says it: a row giving them anything but 403/404 is a mistake to look at."""
    expected = dict(zip(ROLES, (int(s) for s in statuses.split()), strict=True))
    # Open to anyone, signed in or not; none of them shows an account.
    public = {"/health/", "/ready/", "/login/", "/logout/", "/admin/", "/api/schema/", "/api/docs/"}
    if route in public or route.startswith(("/unsubscribe/", "/anymail/", "/survey/")):
        return
    for role in ROLE_REMOVED:
        assert expected[role] in (403, 404), f"{method} {route} answers {role} {expected[role]}"


def test_a_person_whose_role_was_removed_never_sees_their_accounts_data(world):
    """Every page, fragment and API read, in the body: none of the account, its contact, task,
    commitment, override or proposal."""
    from accounts.models import Account, Contact
    from engagement.models import HandoffCommitment, Task
    from segmentation.models import TierChange, TierOverride

    account = Account.objects.get(pk=world.ids["int:account_id"])
    secrets = {
        account.name,
        account.external_id,
        Contact.objects.filter(account=account).values_list("email", flat=True).get(),
        Task.objects.get(pk=world.ids["int:task_id"]).title,
        HandoffCommitment.objects.get(pk=world.ids["int:commitment_id"]).description,
        TierOverride.objects.get(pk=world.ids["int:override_id"]).note,
        TierChange.objects.get(pk=world.ids["int:change_id"]).explanation,
    }

    def shown(role: str, route: str) -> set[str]:
        body = request(world, role, "GET", route).content.decode(errors="replace")
        return {secret for secret in secrets if secret in body}

    for method, route, _ in EXPECTED:
        if method != "GET":
            continue
        # Nothing beyond what a stranger sees (the API schema has an enum label "Escalation").
        to_a_stranger = shown("anonymous", route)
        for role in ROLE_REMOVED:
            assert shown(role, route) - to_a_stranger == set(), f"GET {route} shows {role} account data"
