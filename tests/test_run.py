"""How csplatform runs: `make run` end to end (demo data, every role signs in, static files, a
task through the filesystem broker, Ctrl-C leaves no process behind) and the container health
check used by docker-compose."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from accounts.seeding_users import DEMO_PASSWORD
from csplatform.settings import BASE_DIR

STARTUP_SECONDS = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningApp:
    def __init__(self, process: subprocess.Popen[bytes], log: Path, port: int, env: dict[str, str]) -> None:
        self.process, self.log, self.port, self.env = process, log, port, env
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, seconds: float) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            assert self.process.poll() is None, f"make run exited early:\n{self.output()[-4000:]}"
            time.sleep(0.5)
        raise AssertionError(f"{pattern!r} not seen in {seconds} s:\n{self.output()[-4000:]}")


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[RunningApp]:
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DEBUG", "SECRET_KEY"}
    }
    env.update(
        PORT=str(port),
        VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "make-run.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = RunningApp(process, log, port, env)
    try:
        yield app
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def sign_in(app: RunningApp, username: str) -> tuple[int, int]:
    session = requests.Session()
    session.get(f"{app.url}/login/", timeout=30)
    response = session.post(
        f"{app.url}/login/",
        data={
            "username": username,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{app.url}/login/"},
        allow_redirects=False,
        timeout=30,
    )
    home = session.get(f"{app.url}/", allow_redirects=False, timeout=30)
    return response.status_code, home.status_code


def wait_until_healthy(app: RunningApp) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert app.process.poll() is None, f"make run exited early:\n{app.output()[-4000:]}"
        try:
            if requests.get(f"{app.url}/health/", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise AssertionError(f"/health/ never answered 200:\n{app.output()[-4000:]}")


@pytest.mark.slow
def test_make_run_serves_demo_data_runs_tasks_and_stops_on_ctrl_c(running_app: RunningApp) -> None:
    app = running_app
    wait_until_healthy(app)
    output = app.output()
    assert f"http://localhost:{app.port}/" in output
    assert "Seeded demo data" in output
    assert "maria" in output and DEMO_PASSWORD in output

    for username in ("maria", "tom", "lena"):
        assert sign_in(app, username) == (302, 200), username
    assert sign_in(app, "crm-sync")[0] == 302
    assert requests.get(f"{app.url}/static/js/htmx.min.js", timeout=30).status_code == 200

    # A task published by another process reaches the worker through the filesystem broker.
    task_id = str(uuid.uuid4())
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from csplatform.celery import app; "
            f"app.send_task('csplatform.dispatch_sweep', task_id='{task_id}')",
        ],
        cwd=BASE_DIR,
        env={**app.env, "DJANGO_SETTINGS_MODULE": "csplatform.settings"},
        check=True,
        timeout=60,
    )
    app.wait_for(rf"csplatform\.dispatch_sweep\[{task_id}\] succeeded", seconds=60)

    processes = psutil.Process(app.process.pid).children(recursive=True)
    assert len(processes) >= 3
    os.killpg(app.process.pid, signal.SIGINT)
    app.process.wait(timeout=60)
    _gone, alive = psutil.wait_procs(processes, timeout=30)
    assert alive == [], [p.pid for p in alive]
    # The embedded PostgreSQL under VAR_DIR served the demo and was stopped with the rest.
    pgdata = Path(app.env["VAR_DIR"]) / "postgres"
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists()


def run_health_check(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "scripts" / "healthcheck.py")],
        env={**os.environ, "PORT": str(port), "ALLOWED_HOSTS": ".example.com,localhost"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_container_health_check_passes_when_the_site_is_healthy(live_server: Any) -> None:
    result = run_health_check(int(live_server.url.rsplit(":", 1)[1]))

    assert result.returncode == 0, result.stderr


def test_container_health_check_fails_when_nothing_answers() -> None:
    result = run_health_check(free_port())

    assert result.returncode == 1
    assert "health check failed" in result.stderr
