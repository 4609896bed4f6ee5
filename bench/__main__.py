"""`make bench`: run every bench module against PostgreSQL and Redis and print BENCH lines.

Usage: python -m bench [--only NAME ...]. DATABASE_URL defaults to a local `csplatform_bench`
database (created when missing), CELERY_BROKER_URL to local Redis.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from types import ModuleType
from typing import Any
from urllib.parse import urlparse


def _ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _selects(part: str, name: str, names: set[str], declared: dict[str, tuple[str, ...]]) -> bool:
    """``--only tier_review`` runs bench_tier_review alone, not bench_tier_review_1m_rules too;
    ``--only tier_review_1m`` (the name of a BENCH line a module declares in ``BENCHES``) runs
    the module that prints it, not the modules whose names merely contain it;
    ``--only health`` runs every module whose name contains it."""
    if f"bench_{part}" in names:
        return name == f"bench_{part}"
    printed_by = {module for module, benches in declared.items() if part in benches}
    if printed_by:
        return name in printed_by
    return part in name


def _setup() -> None:
    """Environment defaults, the database (created when missing, migrated) and Django."""
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/csplatform_bench")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if os.environ["DATABASE_URL"].startswith("postgres"):
        _ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def discover(only: list[str] | None) -> list[ModuleType]:
    """The bench modules (``bench/bench_*.py``) whose name contains one of ``only`` (all when
    empty), in their ``ORDER``."""
    import bench

    names = {info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")}
    loaded = {name: importlib.import_module(f"bench.{name}") for name in sorted(names)}
    declared = {name: tuple(getattr(module, "BENCHES", ())) for name, module in loaded.items()}
    modules = [
        module
        for name, module in loaded.items()
        if not only or any(_selects(part, name, names, declared) for part in only)
    ]
    modules.sort(key=lambda m: (getattr(m, "ORDER", 100), m.__name__))
    return modules


def run_benches(modules: list[ModuleType], ctx: Any) -> int:
    """Run each module, print its BENCH lines; return how many budgets failed or benches broke."""
    from bench.common import BenchError

    failures = 0
    for module in modules:
        try:
            for result in module.run(ctx):
                print(result.line(), flush=True)
                failures += result.passed is False
        except BenchError as error:
            failures += 1
            print(f"BENCH {error.name} ERROR  # {error.reason}", flush=True)
        except Exception:
            failures += 1
            print(f"BENCH {module.__name__} ERROR", flush=True)
            traceback.print_exc()
    print(f"# {len(modules)} bench modules, {failures} below goal or broken", flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument(
        "--only",
        nargs="*",
        help="run only the bench module bench_NAME, or those whose name contains NAME when there is none",
    )
    args = parser.parse_args(argv)
    _setup()
    from bench.common import Context

    modules = discover(args.only)
    if args.only and not modules:
        print(f"# no bench module matches {' '.join(args.only)}", flush=True)
        return 2
    failures = run_benches(modules, Context(options=vars(args)))
    # A budget that fails (or a bench that breaks) fails the command, as a failing test would.
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
