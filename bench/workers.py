"""Celery workers for a bench, started as the Procfile starts them.

The worker lines of ``Procfile`` (``worker``, ``interactive``) are read and run with this
Python, so a bench measures the pools, queues and concurrency the product runs with, and cannot
drift from them. Each worker gets a unique node name, logs warnings only, and runs in a session
of its own so that stopping it stops its children too.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PROCFILE = BASE_DIR / "Procfile"
WORKER_PROCESSES = ("worker", "interactive")


def procfile_worker_args(process: str) -> list[str]:
    """The arguments after ``celery`` of the Procfile's ``process`` line."""
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            words = shlex.split(command)
            return words[words.index("-A") :]
    raise LookupError(f"Procfile has no {process!r} process")


def describe() -> str:
    """The workers a bench starts, for its note: ``worker: --pool threads --concurrency 4; ...``."""
    parts = []
    for process in WORKER_PROCESSES:
        args = _bench_args(procfile_worker_args(process), "x")
        options = args[args.index("worker") + 1 : args.index("--loglevel=WARNING")]
        parts.append(f"{process}: {' '.join(options)}")
    return "; ".join(parts)


def _bench_args(args: list[str], node: str) -> list[str]:
    """``args`` with the bench's node name and log level; a bench needs no gossip between nodes."""
    out: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
            continue
        if word in ("-n", "--hostname", "--loglevel"):
            skip = True
            continue
        if word.startswith(("--hostname=", "--loglevel=")):
            continue
        out.append(word)
    quiet = ["--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return [*out, *quiet, "-n", node]


def purge(env: Mapping[str, str]) -> None:
    """Drop every message left in the queues (an interrupted run's): every queue of
    ``CELERY_TASK_QUEUES``."""
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "csplatform", "purge", "-f"],
        cwd=BASE_DIR,
        env=dict(env),
        check=False,
        capture_output=True,
        timeout=120,
    )


def start(process: str, *, prefix: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start the Procfile's ``process`` worker, named ``<prefix>-<process>-<pid>@host``."""
    args = _bench_args(procfile_worker_args(process), f"{prefix}-{process}-{os.getpid()}@%h")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", *args],
        cwd=BASE_DIR,
        env={**env, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """Warm shutdown (SIGTERM to its session), then SIGKILL when it takes longer than ``timeout``."""
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=timeout)


@contextmanager
def procfile_workers(
    *, prefix: str, env: Mapping[str, str], processes: tuple[str, ...] = WORKER_PROCESSES
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The Procfile's workers (every one by default) while the block runs; stopped after it."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        for process in processes:
            started.append(start(process, prefix=prefix, env=env))
        yield started
    finally:
        for worker in started:
            stop(worker)
