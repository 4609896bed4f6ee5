"""Load: 50 concurrent users for 60 s against gunicorn + PostgreSQL + Redis with 1,000,000 accounts,
while a full tier review runs.

The mix (``bench/locustfile.py``): CSMs on their worklist and account pages, leaders on the
overview and every one of its panels (as their browser loads them), API clients reading accounts
and tier history, CRM syncs of 50 records
(whose ACV changes enqueue re-evaluations for the worker), and the trivial view (the anonymous
sign-in form) as the same-run baseline. Figures come from the server-side ``Server-Timing``
header, per page: p50/p95/p99 in milliseconds, p95 also as a ratio to the trivial view's p95.
Throughput is requests per second over the run; errors are every answer other than 2xx (a
redirect is a failure), every failed or timed-out request (30 s) and every request still running
30 s after the load stopped (goal 0). A page with fewer than 30 samples prints no p95: it fails. Every
page, panel and endpoint has the goal p95 <= 20x the trivial view. The slowest request (client
side, queueing included) is named.

Setup (not timed): ``ensure_accounts(n)`` and first tiers; leftovers of an interrupted run
cleared (open reviews failed, the bench broker queue purged); 20 load CSMs with books of 200
accounts each (the demo people own 125,000 accounts each at 1M, which is no CSM's book); a warm
review in the bench process so every account is current (its follow-up tasks dropped), then what
the nightly jobs keep (coverage, portfolio summary, folded task load, settled renewal outcomes,
planner statistics), as in steady state; static files
collected; gunicorn (2 processes x 4 threads, production settings) and a Celery worker (2
processes) on loopback; every 20th account's ACV moved across a threshold so the review has real
work; the review started through the API as a CS leader just before the load begins.

``BENCH_LOAD_ACCOUNTS`` (default 1,000,000), ``BENCH_LOAD_USERS`` (50) and ``BENCH_LOAD_SECONDS``
(60) shrink the run for development.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from django.db import connection

from bench.bench_tier_review import move_every_nth_account
from bench.common import Context, Result, follow_ups_dropped, nightly_summaries_current
from bench.load_figures import load_results

ORDER = 90
ACCOUNTS = int(os.environ.get("BENCH_LOAD_ACCOUNTS", "1000000"))
USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LOAD_CSMS = 20
BOOK_SIZE = 200  # accounts per load CSM: a mid-market book


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load_csms() -> list[str]:
    """CSMs with realistic books (``BOOK_SIZE`` accounts each, spread over the id range).

    The demo people own the whole base between eight CSMs (125,000 accounts each at 1M), which no
    CSM has; the load's CSMs each get a book the size the research describes."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.models import Account
    from accounts.seeding_users import DEMO_PASSWORD
    from csplatform import roles
    from csplatform.models import User

    group = Group.objects.get(name=roles.CSM)
    password = make_password(DEMO_PASSWORD)
    ids = list(Account.objects.order_by("id").values_list("id", flat=True)[:: max(1, ACCOUNTS // 10_000)])
    names = []
    for n in range(LOAD_CSMS):
        user, _ = User.objects.get_or_create(
            username=f"load-csm-{n:02d}", defaults={"password": password, "first_name": f"Load {n}"}
        )
        user.groups.add(group)
        book = ids[n * BOOK_SIZE : (n + 1) * BOOK_SIZE]
        Account.objects.filter(id__in=book).exclude(csm=user).update(csm=user)
        names.append(user.username)
    return names


def _prepare_people_and_config(workdir: Path) -> dict[str, Any]:
    from accounts.models import Account
    from accounts.seeding_users import DEMO_PASSWORD, DEMO_USERS
    from csplatform import roles
    from csplatform.models import User
    from csplatform.services import api_token_issue

    leaders = [p.username for p in DEMO_USERS if p.role == roles.CS_LEADERSHIP]
    integration = User.objects.get(
        username=next(p.username for p in DEMO_USERS if p.role == roles.INTEGRATION)
    )
    leader = User.objects.get(username=leaders[0])
    csms = _load_csms()
    accounts_by_csm = {
        username: list(Account.objects.filter(csm__username=username).values_list("id", flat=True)[:300])
        for username in csms
    }
    sample = list(
        Account.objects.filter(id__gt=0)
        .order_by("id")
        .values_list("id", "crm_source", "external_id")[:: max(1, ACCOUNTS // 2000)][:2000]
    )
    crm_source = sample[0][1]
    config = {
        "people": {"csm": csms, "leader": leaders},
        "password": DEMO_PASSWORD,
        "token": api_token_issue(user=integration)[1],
        "leader_token": api_token_issue(user=leader)[1],
        "accounts_by_csm": accounts_by_csm,
        "account_ids": [row[0] for row in sample],
        "external_ids": [row[2] for row in sample if row[1] == crm_source],
        "crm_source": crm_source,
        "panels": _panel_urls(),
    }
    (workdir / "config.json").write_text(json.dumps(config))
    return config


def _panel_urls() -> list[str]:
    from django.urls import reverse

    from csplatform.htmx import overview_panels

    return [reverse(panel.url_name) for panel in overview_panels()]


def _clean_slate(env: dict[str, str]) -> None:
    """Leftovers of an earlier (interrupted) run must not queue ahead of this one's work."""
    from bench.common import reviews_left_open_failed
    from csplatform.models import PendingDispatch

    reviews_left_open_failed()
    PendingDispatch.objects.all().delete()
    subprocess.run(
        [str(VENV_BIN / "celery"), "-A", "csplatform", "purge", "-f"],
        cwd=BASE_DIR,
        env=env,
        check=False,
        capture_output=True,
        timeout=120,
    )


def _warm_review() -> None:
    """Bring every account and the dashboard summaries up to date (untimed), as in steady state."""
    from engagement.coverage.services import coverage_recompute
    from segmentation.models import PolicyStatus, TierPolicy, TierReview
    from segmentation.services.reviews import tier_review_run, tier_review_start

    # Current only if the latest review finished under the active policy: after the rules
    # benches (another policy), the load's review would otherwise move 200,000 accounts, four
    # times the 50,000 it is given, and run through the whole load.
    latest = TierReview.objects.order_by("-id").first()
    if (
        latest is not None
        and latest.status == "finished"
        and latest.accounts_total >= ACCOUNTS
        and latest.policy_id == TierPolicy.objects.get(status=PolicyStatus.ACTIVE).pk
    ):
        return
    # The review runs here, in one process, as a worker would. What it hands to other tasks (each
    # chunk's follow-ups: portfolio, coverage, playbooks, webhooks) stays in the outbox and is
    # dropped: run eagerly, each chunk's portfolio refresh recounts the demo people's 125,000
    # accounts, and the warm-up took over 40 minutes. The nightly jobs that follow
    # (``nightly_summaries_current``, coverage) bring the summaries current once instead.
    with follow_ups_dropped():
        review = tier_review_start()
        tier_review_run(review_id=review.pk)
    coverage_recompute()


def _server_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "csplatform.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_ROOT": str(workdir / "static"),
            "VAR_DIR": str(workdir / "var"),
            "LOG_LEVEL": "WARNING",
            # Throughput is what is measured here, not the per-user rate limit.
            "API_THROTTLE_USER": "1000000/minute",
            "API_THROTTLE_ANON": "1000000/minute",
        }
    )
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=BASE_DIR,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def _review(base: str, token: str, review_id: int) -> dict[str, Any]:
    """The review as the API shows it; the server may still be draining the load's queue."""
    for _ in range(10):
        try:
            return requests.get(
                f"{base}/api/v1/tier-reviews/{review_id}/",
                headers={"Authorization": f"Token {token}"},
                timeout=60,
            ).json()
        except requests.RequestException:
            time.sleep(3)
    raise RuntimeError("the review could not be read after the load")


def run(ctx: Context) -> list[Result]:
    from accounts.seeding import ensure_accounts
    from segmentation.services.initial_tiers import tier_assign_initial

    total = ensure_accounts(ACCOUNTS)
    tier_assign_initial()  # freshly seeded accounts get their first tier (slow only the first time)
    workdir = Path(tempfile.mkdtemp(prefix="csplatform-load-"))
    env = _server_env(workdir)
    _clean_slate(env)
    config = _prepare_people_and_config(workdir)
    _warm_review()
    nightly = nightly_summaries_current()
    moved = move_every_nth_account()  # the same move as tier_review_1m's
    connection.close()  # the servers and the review need the rows; hold no locks or connections

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web = _start(
        [
            str(VENV_BIN / "gunicorn"),
            # The production server's settings (workers, worker class), on loopback.
            "--config",
            str(BASE_DIR / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--no-control-socket",
            "csplatform.wsgi:application",
        ],
        env,
        workdir / "gunicorn.log",
    )
    worker = _start(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "csplatform",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        workdir / "worker.log",
    )
    try:
        _wait_for(f"{base}/login/")
        started = requests.post(
            f"{base}/api/v1/tier-reviews/",
            headers={"Authorization": f"Token {config['leader_token']}"},
            timeout=60,
        )
        if started.status_code not in (202, 409):
            raise RuntimeError(f"could not start the review: {started.status_code} {started.text[:500]}")
        review_id = started.json()["id"]
        load_env = {
            **env,
            "CSPLATFORM_LOAD_CONFIG": str(workdir / "config.json"),
            "CSPLATFORM_LOAD_OUT": str(workdir / "out.json"),
        }
        load_started = time.monotonic()
        subprocess.run(
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(BASE_DIR / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(USERS),
                "--spawn-rate",
                str(USERS),
                "--run-time",
                f"{SECONDS}s",
                "--host",
                base,
                "--only-summary",
                "--loglevel",
                "ERROR",
                # As long as a request may take (REQUEST_TIMEOUT in the locustfile): a request the
                # stop interrupted had run longer than any request may, not merely started late.
                "--stop-timeout",
                "30",
            ],
            cwd=BASE_DIR,
            env=load_env,
            check=False,
            capture_output=True,
            timeout=SECONDS + 120,
        )
        load_seconds = time.monotonic() - load_started
        review_during = _review(base, config["leader_token"], review_id)
        deadline = time.monotonic() + 120
        review = review_during
        while review["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(2)
            review = _review(base, config["leader_token"], review_id)
    finally:
        _stop(worker)
        _stop(web)

    out = json.loads((workdir / "out.json").read_text())
    return load_results(
        out,
        users=USERS,
        load_seconds=load_seconds,
        total=total,
        moved=moved,
        during=review_during,
        review=review,
        nightly=nightly,
    )
