"""Tier changes delivered as signed webhooks, against a plain loop of signed POSTs.

10,000 applied tier changes are announced the way a review chunk announces them
(``tier_changes_applied`` in the chunk's transaction): the webhook receiver records one message
and delivery per change, and the sender claims, signs, POSTs and records them, to a receiver on
localhost. The baseline is a plain loop that signs the very same bodies with the same library and
POSTs them over one kept-alive session to the same receiver. The ratio says what share of the bare
POST rate survives the outbox's bookkeeping (recording, claiming, attempt log; higher is better).

Data is written under a throwaway CRM source and deleted afterwards. ``BENCH_WEBHOOK_EVENTS``
makes the run shorter while developing.
"""

from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.common import Context, Result

ORDER = 65
GOAL = 0.3
SOURCE = "bench-webhooks"


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        with _Receiver.lock:
            _Receiver.received += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _cleanup() -> None:
    from accounts.models import Account
    from integrations.models import WebhookEndpoint, WebhookMessage

    WebhookEndpoint.objects.filter(description=SOURCE).delete()
    WebhookMessage.objects.filter(deliveries__isnull=True).delete()
    Account.objects.filter(crm_source=SOURCE).delete()


def _tier_changes(count: int) -> list[int]:
    from django.utils import timezone

    from accounts.models import Account
    from segmentation.models import ChangeSource, ChangeStatus, TierChange

    now = timezone.now()
    accounts = Account.objects.bulk_create(
        (Account(crm_source=SOURCE, external_id=str(n), name=f"Bench Customer {n}") for n in range(count)),
        batch_size=5000,
    )
    changes = TierChange.objects.bulk_create(
        (
            TierChange(
                account=a,
                from_code="MM2",
                from_name="Mid-Market Tier 2",
                from_rank=3,
                to_code="MM1",
                to_name="Mid-Market Tier 1",
                to_rank=2,
                explanation="ACV 52,000 ≥ 50,000 → Mid-Market Tier 1.",
                source=ChangeSource.REVIEW,
                status=ChangeStatus.APPLIED,
                applied_at=now,
            )
            for a in accounts
        ),
        batch_size=5000,
    )
    return [c.pk for c in changes]


def run(ctx: Context) -> list[Result]:
    import requests
    from django.conf import settings
    from django.db import transaction
    from django.test.utils import override_settings
    from standardwebhooks import Webhook

    from accounts.models import Account
    from integrations.models import DeliveryStatus, WebhookDelivery, WebhookMessage
    from integrations.services import events, sending
    from integrations.services.endpoints import webhook_endpoint_create
    from segmentation.models import TierChange
    from segmentation.signals import tier_changes_applied

    count = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    queue_sender = events.sender_queue_once
    events.sender_queue_once = lambda: None  # the bench runs the sender itself
    _cleanup()
    try:
        with override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=True):
            from csplatform.models import User

            owner, _ = User.objects.get_or_create(username="bench-webhooks", defaults={"is_superuser": True})
            endpoint = webhook_endpoint_create(by=owner, url=url, events=["account.tier_changed"])
            endpoint.description = SOURCE
            endpoint.save(update_fields=["description"])
            change_ids = _tier_changes(count)
            account_ids = list(
                TierChange.objects.filter(pk__in=change_ids).values_list("account_id", flat=True)
            )

            _Receiver.received = 0
            started = time.perf_counter()
            with transaction.atomic():
                tier_changes_applied.send(
                    sender=TierChange,
                    account_ids=account_ids,
                    change_ids=change_ids,
                    source="review",
                    review_id=None,
                )
            counts = sending.webhooks_deliver()
            webhook_seconds = time.perf_counter() - started
            delivered = _Receiver.received

            bodies = list(
                WebhookMessage.objects.filter(deliveries__endpoint=endpoint).values_list("webhook_id", "body")
            )
            signer = Webhook(endpoint.secret)
            _Receiver.received = 0
            session = requests.Session()
            started = time.perf_counter()
            for webhook_id, body in bodies:
                headers = sending.signed_headers(signer=signer, webhook_id=webhook_id, body=body, at=_now())
                session.post(
                    url, data=body.encode(), headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
                )
            baseline_seconds = time.perf_counter() - started
            session.close()
            baseline_delivered = _Receiver.received
            succeeded = WebhookDelivery.objects.filter(
                endpoint=endpoint, status=DeliveryStatus.SUCCEEDED
            ).count()
    finally:
        events.sender_queue_once = queue_sender
        server.shutdown()
        server.server_close()
        _cleanup()
        Account.objects.filter(crm_source=SOURCE).delete()

    assert delivered == count == succeeded == baseline_delivered, (
        delivered,
        succeeded,
        baseline_delivered,
        counts,
    )
    rate = count / webhook_seconds
    baseline = count / baseline_seconds
    return [
        Result(
            "webhook_delivery",
            round(rate, 1),
            "events/s",
            ratio=rate / baseline,
            goal=GOAL,
            higher_is_better=True,
            note=(
                f"{count} tier changes recorded, signed, POSTed and logged in {webhook_seconds:.1f} s; "
                f"a plain loop of signed POSTs to the same receiver: {baseline:.0f}/s"
            ),
        )
    ]


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()
