"""How gunicorn serves csplatform in production. The Docker image, docker-compose and the load
bench all start it with this file (``gunicorn -c gunicorn.conf.py csplatform.wsgi``), so the bench
measures the server production runs.

Threaded workers: a request spends much of its time waiting on PostgreSQL, and the other threads
of its process serve meanwhile. In the load bench (50 users, 2 cores) two processes of four
threads answered 51 requests/s where three single-request processes answered 34.

``keepalive`` is longer than the idle timeout of the reverse proxy in front (nginx keeps an idle
upstream connection 60 s): the proxy closes an idle connection first, and never sends a request
on one the server is closing at that very moment, which fails it with a reset. (At gunicorn's
default of 2 s, a browser's idle panel connections met that race a few times a minute.)
"""

from __future__ import annotations

import os


def _positive(name: str, default: int) -> int:
    """A whole number of at least 1 from the environment; anything else stops the server with the
    variable named, instead of a bare ``ValueError`` from ``int``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# One process per core; WEB_CONCURRENCY sets it for another machine.
workers = _positive("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = _positive("WEB_THREADS", 4)
keepalive = 75
timeout = _positive("GUNICORN_TIMEOUT", 60)
accesslog = "-"
forwarded_allow_ips = "*"


def post_worker_init(worker: object) -> None:
    """Move everything loading the application made (modules, URLconf, settings, templates'
    compiled code; about 150,000 objects) out of the collector's reach: every older-generation
    collection otherwise walks them, milliseconds added to whichever request triggers it."""
    import gc

    gc.freeze()
