"""The settings (``backoffice/settings.py``), read by a fresh process as start-up reads them:
misconfiguration stops start-up with what to set; database connections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _start(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIX_", "DJANGO_"))}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_start_up_fails_with_a_message_when_a_key_has_no_site_id() -> None:
    result = _start({"WIX_API_KEY": "a-key"})
    assert result.returncode != 0
    assert "Wix settings" in result.stderr and "WIX_SITE_ID" in result.stderr


def test_live_wix_requires_a_secret_key() -> None:
    result = _start({"WIX_API_KEY": "a-key", "WIX_SITE_ID": "a-site"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def _database_settings(extra_env: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIX_", "DJANGO_", "DATABASE_"))}
    env.update(extra_env)
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-2:]


def test_web_workers_keep_their_database_connection_unless_told_not_to() -> None:
    assert _database_settings({}) == ["60", "True"]
    assert _database_settings({"DATABASE_CONN_MAX_AGE": "0"}) == ["0", "True"]
