"""Production settings: Django's deployment checklist passes and the security headers are set.

Settings are read once per process from the environment, so production values are checked in a
child process started with a production environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-secret-only-for-this-test-" + "y" * 20,
    "ALLOWED_HOSTS": "cs.example.com",
    "SITE_URL": "https://cs.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:9/unused",
    "CACHE_URL": "redis://127.0.0.1:9/1",
    "LOG_LEVEL": "WARNING",
}


def _run(code: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    # Only the production environment: no test-only switches (DJANGO_ALLOW_ASYNC_UNSAFE from the
    # browser tests) and none of the developer's own values.
    dropped = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("DJANGO_")}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="csplatform.settings", **extra_env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_deployment_checklist_is_clean_with_production_settings(tmp_path):
    result = _run(
        "import django, sys; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_production_cookies_transport_and_headers_are_locked_down(tmp_path):
    result = _run(
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({k: getattr(s, k, None) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT',"
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER',"
        "'SECURE_REFERRER_POLICY', 'X_FRAME_OPTIONS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'DEBUG',"
        "'CONTENT_SECURITY_POLICY')}))",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    script_src = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": "csplatform-development-key-not-for-production"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
    ],
)
def test_unsafe_production_values_stop_the_process(tmp_path, env, message):
    result = _run("import django; django.setup()", VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


@pytest.mark.slow
def test_production_counts_throttles_and_lockouts_in_the_shared_cache(tmp_path):
    result = _run(
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.CACHES['default'], s.AXES_HANDLER, s.SHARED_CACHE]))",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    cache, axes_handler, shared = json.loads(result.stdout.strip().splitlines()[-1])
    assert cache == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/1",
    }
    assert axes_handler == "axes.handlers.cache.AxesCacheHandler" and shared is True


@pytest.mark.slow
def test_the_deployment_check_warns_without_a_shared_cache(tmp_path):
    result = _run(
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')",
        VAR_DIR=str(tmp_path),
        CACHE_URL="",
    )
    assert result.returncode != 0
    assert "csplatform.W001" in result.stderr and "CACHE_URL" in result.stderr
