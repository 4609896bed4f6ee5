"""The webhook pages in a real browser, wide and narrow: adding an endpoint shows its secret once,
the delivery log lists attempts, redelivery swaps its row over HTMX, and nothing overflows
sideways. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from csplatform import roles
from integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def endpoint(migration_data: None, settings) -> WebhookEndpoint:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    lena = UserFactory(username="lena", role=roles.CS_LEADERSHIP)
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.crm.example.com/services/csplatform/webhooks/tier-changes-and-health-bands",
        description="Salesforce: tiers and health bands",
        events=["account.tier_changed", "account.health_band_changed", "flag.raised"],
        secret="whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
        created_by=lena,
        failing_since=timezone.now(),
    )
    now = timezone.now()
    for n, status in enumerate([DeliveryStatus.SUCCEEDED, DeliveryStatus.PENDING, DeliveryStatus.FAILED]):
        message = WebhookMessage.objects.create(
            webhook_id=f"msg_{n:032d}", event="account.tier_changed", body="{}", created_at=now
        )
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            message=message,
            status=status,
            attempts=2,
            last_status_code=200 if status == DeliveryStatus.SUCCEEDED else 503,
            last_error="" if status == DeliveryStatus.SUCCEEDED else "Answered HTTP 503.",
            next_attempt_at=now if status == DeliveryStatus.PENDING else None,
            retry_until=now,
            created_at=now,
        )
        for code in (503, 200 if status == DeliveryStatus.SUCCEEDED else 503):
            WebhookAttempt.objects.create(
                delivery=delivery, attempted_at=now, status_code=code, succeeded=code == 200, duration_ms=12
            )
    return endpoint


@pytest.mark.parametrize("width", [1440, 820])
def test_the_webhook_pages_fit_the_screen(endpoint, page_for, screenshot, width):
    page = page_for("lena", width=width)
    page.goto("/integrations/webhooks/")
    expect(page.get_by_role("heading", name="Outbound webhooks")).to_be_visible()
    page.fill("#id_url", "http://127.0.0.1:9/hooks")
    page.check("input[value='renewal.recorded']")
    page.click("button:has-text('Add endpoint')")
    expect(page.get_by_test_id("new-secret")).to_contain_text("whsec_")
    screenshot(page, f"webhooks-{width}")
    assert page.evaluate(OVERFLOW) <= 0, "the webhooks page scrolls sideways"

    page.goto(f"/integrations/webhooks/{endpoint.pk}/")
    expect(page.locator("tr[id^=delivery-]")).to_have_count(3)
    page.wait_for_load_state("networkidle")
    screenshot(page, f"webhook-detail-{width}")
    assert page.evaluate(OVERFLOW) <= 0, "the endpoint page scrolls sideways"
