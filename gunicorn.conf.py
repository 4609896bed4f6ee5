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

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# One process per core; WEB_CONCURRENCY sets it for another machine.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 75
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = "-"
forwarded_allow_ips = "*"
