"""No secret in the repository: tracked files carry no key-shaped strings and no .env file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[A-Za-z0-9]{20,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "SendGrid key": re.compile(r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b"),
    "password in a URL": re.compile(r"\b(?:postgres(?:ql)?|redis|amqp|mysql)://[^:/@\s]+:[^@/\s]{6,}@"),
    "assigned secret": re.compile(
        r"""(?i)\b(?:secret_key|api_key|password|token)\b\s*[:=]\s*["'][A-Za-z0-9+/_\-]{32,}["']"""
    ),
}


def _tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=BASE_DIR, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [BASE_DIR / name for name in listing.split("\0") if name]


def test_the_patterns_recognise_secrets():
    samples = [
        "-----BEGIN " + "RSA PRIVATE KEY-----",
        "AKIA" + "ABCDEFGHIJKLMNOP",
        'SECRET_KEY = "' + "a1B2" * 10 + '"',
        "postgres://app:" + "hunter22" + "@db/app",
    ]
    for sample in samples:
        assert any(p.search(sample) for p in SECRET_PATTERNS.values()), sample


def test_no_tracked_file_contains_a_secret():
    findings = []
    files = _tracked_files()
    assert len(files) > 20
    for path in files:
        if not path.is_file() or path.suffix in {".png", ".ico", ".woff", ".woff2", ".gz", ".br"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        for label, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                findings.append(f"{path.relative_to(BASE_DIR)}: {label}: {match.group(0)[:40]}")
    assert findings == []


def test_no_environment_file_is_tracked():
    names = {path.name for path in _tracked_files()}
    assert not names & {".env", ".env.production", ".env.local", "id_rsa", "id_ed25519"}
