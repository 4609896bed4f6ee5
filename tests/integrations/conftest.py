"""A real HTTP receiver on localhost for webhook tests, and helpers to make events happen.

The receiver answers each POST with the next status of its script (then with its default), and
keeps every request it got: method, path, headers and the exact body bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from accounts.models import Account
from segmentation.services.initial_tiers import tier_assign_initial
from tests.factories import AccountFactory


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    default_status: int = 200

    def answer_next(self, *statuses: int) -> None:
        self.script.extend(statuses)


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1; private targets are allowed for it (and only here)."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            with lock:
                state.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = state.script.pop(0) if state.script else state.default_status
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver is down")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/csplatform"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tiered_account(db: None, alice: Any, tom: Any) -> Account:
    """An account at MM1 (ACV 62,000) with its initial tier recorded."""
    account = AccountFactory(acv=Decimal("62000"), csm=alice, ae=tom, external_id="0015g00000XyZ12AAB")
    tier_assign_initial()
    account.refresh_from_db()
    assert account.tier_code == "MM1"
    return account


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """with on_commit(): ... runs what the block queued for after commit (tasks run eagerly)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def run_review_for_webhooks(db: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    from segmentation.services.reviews import tier_review_start

    def run() -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return tier_review_start()

    return run
