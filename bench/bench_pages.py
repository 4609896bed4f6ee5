"""The pages people open most: the CSM worklist and the leadership overview.

Query counts are taken in-process through the Django test client (the worklist of a CSM with a
500-account portfolio; the overview page and each of its panel fragments, the largest count
reported) and must not depend on the size of the book. Speed is measured on a real server:
gunicorn with production settings on loopback, requests from an HTTP client, and the time the
application itself reports in ``Server-Timing: app;dur=``. Each figure is the p95 as a ratio to
the p95 of a trivial view (the anonymous sign-in form) served by the same server in the same run.
The overview page loads its panels as parallel HTMX requests, so its figure is the slowest piece
(the page or one panel, by p95); the note gives each piece and the sum of all of them.

Setup (not timed): ``ensure_accounts(n)``, a bench CSM owning 500 accounts (a fifth flagged,
with overdue tasks and commitments beyond the tier) and a bench leader, a finished tier review
when there is none (panels read the summary tables a review writes), the CSM portfolio summary
refreshed as the nightly job does (the bench bulk-creates accounts without signals), the renewal
outcomes of ended days settled as the nightly retention job does (the retention and override
panels read their day sums), static files collected.

``BENCH_PAGES_ACCOUNTS`` (default 1,000,000) and ``BENCH_PAGES_SAMPLES`` (default 40) shrink the
run while developing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from bench.common import Context, Result, nightly_summaries_current, portfolio_taken_back

ORDER = 95
ACCOUNTS = int(os.environ.get("BENCH_PAGES_ACCOUNTS", "1000000"))
SAMPLES = int(os.environ.get("BENCH_PAGES_SAMPLES", "40"))
PORTFOLIO = 500
SOURCE = "bench-pages"
CSM_NAME = "bench-pages-csm"
LEADER_NAME = "bench-pages-leader"
PASSWORD = secrets.token_urlsafe(16)
GOAL_WORKLIST_QUERIES = 12
GOAL_OVERVIEW_QUERIES = 15
GOAL_WORKLIST_P95 = 10.0
GOAL_OVERVIEW_P95 = 15.0
BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


def _people() -> tuple[Any, Any]:
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import Account
    from csplatform import roles
    from csplatform.models import User
    from engagement.models import Flag, HandoffCommitment, Task

    csm, _ = User.objects.get_or_create(username=CSM_NAME, defaults={"email": f"{CSM_NAME}@bench.example"})
    leader, _ = User.objects.get_or_create(
        username=LEADER_NAME, defaults={"email": f"{LEADER_NAME}@bench.example"}
    )
    csm.groups.add(Group.objects.get(name=roles.CSM))
    leader.groups.add(Group.objects.get(name=roles.CS_LEADERSHIP))
    for user in (csm, leader):
        user.set_password(PASSWORD)
        user.save()
    present = portfolio_taken_back(csm, crm_source=SOURCE)
    if len(present) < PORTFOLIO:
        now = timezone.now()
        accounts = Account.objects.bulk_create(
            Account(
                crm_source=SOURCE,
                external_id=f"{CSM_NAME}-{i}",
                name=f"Bench portfolio {i}",
                acv=Decimal(9000 + 180 * i),
                csm=csm,
                tier_code="MM2",
                tier_name="Mid-Market Tier 2",
                tier_rank=3,
                renewal_date=dt.date.today() + dt.timedelta(days=i % 200),
            )
            for i in range(PORTFOLIO)
            if f"{CSM_NAME}-{i}" not in present
        )
        flagged = accounts[::5]
        Flag.objects.bulk_create(
            Flag(
                account=a,
                kind="usage_drop",
                explanation="bench",
                raised_at=now,
                expires_at=now + dt.timedelta(days=14),
            )
            for a in flagged
        )
        Task.objects.bulk_create(
            Task(
                account=a,
                assignee=csm,
                title="Bench follow-up",
                due_on=dt.date.today() - dt.timedelta(days=3),
            )
            for a in flagged
        )
        HandoffCommitment.objects.bulk_create(
            HandoffCommitment(account=a, description="bench promise", status="exceeds_tier", checked_at=now)
            for a in flagged
        )
    return csm, leader


def _finished_review() -> str:
    """Panels read the summaries of the last finished review; run one when there is none."""
    from segmentation.models import TierReview
    from segmentation.services.reviews import tier_review_run, tier_review_start

    review = TierReview.objects.filter(status="finished").order_by("-id").first()
    if review is not None:
        return f"review #{review.pk}"
    open_review = TierReview.objects.filter(is_open=True).first()
    review = open_review or tier_review_start()
    started = time.perf_counter()
    tier_review_run(review_id=review.pk)
    return f"review #{review.pk} run for the bench in {time.perf_counter() - started:.0f} s"


def _overview_urls() -> list[str]:
    from django.urls import reverse

    from csplatform.htmx import overview_panels

    return [reverse(panel.url_name) for panel in overview_panels()]


def _query_counts(csm: Any, leader: Any, panels: list[str]) -> tuple[int, int, str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def count(client: Client, url: str, **headers: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return len(captured.captured_queries)

    csm_client, leader_client = Client(), Client()
    csm_client.force_login(csm)
    leader_client.force_login(leader)
    count(csm_client, "/")  # warm caches that are per process (content types, templates)
    worklist = count(csm_client, "/")
    overview = {"/": count(leader_client, "/")}
    for url in panels:
        overview[url] = count(leader_client, url, **{"HX-Request": "true"})
    worst = max(overview, key=lambda u: overview[u])
    return worklist, overview[worst], ", ".join(f"{u} {n}" for u, n in overview.items())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


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
        }
    )
    return env


def _sign_in(base: str, username: str) -> requests.Session:
    """Production cookies are ``Secure``; on plain loopback HTTP they are sent by hand."""
    form = requests.get(f"{base}/login/", timeout=30)
    csrf = form.cookies.get("csrftoken", "")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    response = requests.post(
        f"{base}/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token.group(1) if token else "",
        },
        headers={"Cookie": f"csrftoken={csrf}"},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"{username} could not sign in: {response.status_code}")
    session = requests.Session()
    session.headers["Cookie"] = f"sessionid={response.cookies.get('sessionid', '')}"
    return session


def _app_ms(session: requests.Session, url: str, **headers: str) -> float:
    response = session.get(url, headers=headers, timeout=120, allow_redirects=False)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    match = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
    if match is None:
        raise RuntimeError(f"{url} sent no Server-Timing")
    return float(match.group(1))


def _timings(base: str, panels: list[str]) -> dict[str, list[float]]:
    anonymous = requests.Session()
    csm = _sign_in(base, CSM_NAME)
    leader = _sign_in(base, LEADER_NAME)
    out: dict[str, list[float]] = {"trivial": [], "worklist": [], "/": [], "overview sum": []}
    out.update({url: [] for url in panels})
    for sample in range(SAMPLES + 3):
        measured = {
            "trivial": _app_ms(anonymous, f"{base}/login/"),
            "worklist": _app_ms(csm, f"{base}/"),
            "/": _app_ms(leader, f"{base}/"),
        }
        for url in panels:
            measured[url] = _app_ms(leader, f"{base}{url}", **{"HX-Request": "true"})
        measured["overview sum"] = measured["/"] + sum(measured[url] for url in panels)
        if sample >= 3:  # the first requests of each process warm its caches
            for name, value in measured.items():
                out[name].append(value)
    return out


def run(ctx: Context) -> list[Result]:
    from django.db import connection

    from accounts.seeding import ensure_accounts

    total = ensure_accounts(ACCOUNTS)
    csm, leader = _people()
    review_note = _finished_review()
    review_note += ", " + nightly_summaries_current()
    panels = _overview_urls()
    worklist_queries, overview_queries, overview_detail = _query_counts(csm, leader, panels)
    connection.close()

    workdir = Path(tempfile.mkdtemp(prefix="csplatform-pages-"))
    env = _server_env(workdir)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            # The production server's settings, with one process of one thread: the figures are
            # the time of one request alone.
            "--config",
            str(BASE_DIR / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "1",
            "--timeout",
            "300",
            "csplatform.wsgi:application",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=open(workdir / "gunicorn.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/login/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.3)
        timings = _timings(base, panels)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    trivial = _p95(timings["trivial"])
    worklist = _p95(timings["worklist"])
    pieces = {name: _p95(timings[name]) for name in ["/", *panels]}
    slowest = max(pieces, key=lambda name: pieces[name])
    overview = pieces[slowest]
    pieces_note = ", ".join(f"{name} {ms:.0f}" for name, ms in pieces.items())
    size = f"{total:,} accounts, {review_note}"
    return [
        Result(
            "worklist_queries",
            worklist_queries,
            "queries",
            goal=GOAL_WORKLIST_QUERIES,
            note=f"CSM with {PORTFOLIO} accounts; {size}",
        ),
        Result(
            "leadership_overview_queries",
            overview_queries,
            "queries",
            goal=GOAL_OVERVIEW_QUERIES,
            note=f"largest of page and panels: {overview_detail}",
        ),
        Result(
            "worklist_p95",
            worklist,
            "ms",
            ratio=worklist / trivial,
            goal=GOAL_WORKLIST_P95,
            note=f"trivial view p95 {trivial:.1f} ms; {len(timings['worklist'])} samples",
        ),
        Result(
            "leadership_overview_p95",
            overview,
            "ms",
            ratio=overview / trivial,
            goal=GOAL_OVERVIEW_P95,
            note=f"slowest piece {slowest}; p95 ms: {pieces_note}; page + all panels "
            f"{_p95(timings['overview sum']):.0f} ms; trivial view p95 {trivial:.1f} ms",
        ),
    ]
