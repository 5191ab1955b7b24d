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


def _settings(extra_env: dict[str, str], names: str) -> list[str]:
    """The repr of each setting in ``names`` as a fresh process reads them from ``extra_env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIX_", "DJANGO_", "CACHE_"))}
    env.update(extra_env)
    code = (
        f"from django.conf import settings as s; print('|'.join(repr(getattr(s, n, None)) for n in {names.split()!r}))"
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
    return result.stdout.strip().splitlines()[-1].split("|")


def test_sessions_end_after_twelve_idle_hours_unless_told_otherwise() -> None:
    names = "SESSION_COOKIE_AGE SESSION_EXPIRE_AT_BROWSER_CLOSE"
    assert _settings({}, names) == ["43200", "False"]
    assert _settings({"DJANGO_SESSION_IDLE_HOURS": "2.5", "DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE": "1"}, names) == [
        "9000",
        "True",
    ]


def test_x_forwarded_proto_is_trusted_only_when_asked() -> None:
    assert _settings({}, "SECURE_PROXY_SSL_HEADER") == ["None"]
    assert _settings({"DJANGO_TRUST_X_FORWARDED_PROTO": "true"}, "SECURE_PROXY_SSL_HEADER") == [
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    ]


def test_the_cache_is_per_process_unless_cache_url_names_a_shared_one() -> None:
    """CACHE_URL: the embedded default needs no Redis; production shares one (README, Settings)."""
    default, shared = (_settings(env, "CACHES")[0] for env in ({}, {"CACHE_URL": "redis://127.0.0.1:6379/1"}))
    assert "LocMemCache" in default
    assert "django.core.cache.backends.redis.RedisCache" in shared and "redis://127.0.0.1:6379/1" in shared


def test_the_wix_credentials_are_masked_in_the_settings() -> None:
    shown = _settings(
        {"WIX_API_KEY": "CANARY-settings-key-1234", "WIX_SITE_ID": "site", "DJANGO_SECRET_KEY": "s" * 50}, "WIX"
    )
    assert "CANARY" not in shown[0] and "api_key=Secret('********')" in shown[0]
