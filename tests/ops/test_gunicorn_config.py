"""The production web server's settings live in one file, gunicorn.conf.py, which the image,
docker-compose and the load bench all start gunicorn with."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from csplatform.settings import BASE_DIR

CONFIG = BASE_DIR / "gunicorn.conf.py"
VENV_BIN = Path(sys.executable).parent
SIZING = ("WEB_CONCURRENCY", "WEB_THREADS", "GUNICORN_BIND", "GUNICORN_TIMEOUT")


def _print_config(**environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SIZING} | environ
    return subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--config", str(CONFIG), "--print-config", "csplatform.wsgi"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _loaded(**environ: str) -> dict[str, str]:
    """The settings gunicorn itself reads from the file (its own loader and validation, through
    ``--print-config``), with ``environ`` set and the sizing variables otherwise unset."""
    printed = _print_config(**environ)
    assert printed.returncode == 0, printed.stderr
    return dict(re.findall(r"^(\w+)\s+= (.*)$", printed.stdout, re.MULTILINE))


def test_threaded_workers_whose_idle_connections_outlive_the_proxys() -> None:
    cfg = _loaded()
    assert cfg["worker_class"] == "gthread"
    assert (cfg["workers"], cfg["threads"], cfg["timeout"]) == ("2", "4", "60")
    # nginx keeps an idle upstream connection 60 s; the server must keep it longer.
    assert int(cfg["keepalive"]) > 60
    assert cfg["bind"] == "['0.0.0.0:8000']"
    assert cfg["accesslog"] == "-"


def test_the_environment_sizes_the_server() -> None:
    cfg = _loaded(WEB_CONCURRENCY="5", WEB_THREADS="8", GUNICORN_BIND="127.0.0.1:9000")
    assert (cfg["workers"], cfg["threads"], cfg["bind"]) == ("5", "8", "['127.0.0.1:9000']")


# (A WEB_CONCURRENCY that is no number at all is refused by gunicorn itself, which reads it for
# its own default before this file.)
@pytest.mark.parametrize(
    ("name", "value"), [("WEB_CONCURRENCY", "0"), ("WEB_THREADS", "four"), ("GUNICORN_TIMEOUT", "-5")]
)
def test_a_bad_sizing_value_stops_the_server_naming_the_variable(name: str, value: str) -> None:
    printed = _print_config(**{name: value})
    assert printed.returncode != 0
    assert f"{name} must be a whole number of at least 1, not {value!r}." in printed.stderr


def test_the_image_and_compose_start_gunicorn_with_it() -> None:
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r'CMD \["gunicorn", "--config", "gunicorn.conf.py", "csplatform.wsgi"\]', dockerfile)
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    assert "- --config=gunicorn.conf.py" in compose
    assert "WEB_CONCURRENCY: ${WEB_CONCURRENCY:-2}" in compose
    for bench in ("bench_load.py", "bench_pages.py"):
        assert 'str(BASE_DIR / "gunicorn.conf.py")' in (BASE_DIR / "bench" / bench).read_text()
