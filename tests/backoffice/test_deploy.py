"""Production settings: ``manage.py check --deploy`` is clean, HTTPS is enforced except for the
health check a load balancer probes over plain HTTP, and a TLS proxy can be trusted."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "desk.club.example",
    "WIX_API_KEY": "live-api-key-for-the-check-only",
    "WIX_SITE_ID": "00000000-0000-0000-0000-000000000001",
}


def _check_deploy(tmp_path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WIX_", "DATABASE_URL"))}
    env.update(PRODUCTION, DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}", **extra)
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("extra", [{}, {"DJANGO_TRUST_X_FORWARDED_PROTO": "1"}], ids=["direct", "behind-tls-proxy"])
def test_check_deploy_is_clean_with_production_settings(tmp_path, extra):
    done = _check_deploy(tmp_path, **extra)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (1 silenced)." in done.stdout


def test_check_deploy_speaks_up_when_https_is_switched_off(tmp_path):
    done = _check_deploy(tmp_path, DJANGO_SECURE_COOKIES="0", DJANGO_SECURE_SSL_REDIRECT="0")
    assert done.returncode != 0
    assert "security.W008" in done.stdout + done.stderr  # SECURE_SSL_REDIRECT


@pytest.mark.django_db
def test_plain_http_is_redirected_but_the_health_check_answers(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/today/").status_code == 301
    assert client.get("/today/")["Location"].startswith("https://")
    assert client.get("/healthz/").status_code == 200


@pytest.mark.django_db
def test_behind_a_tls_proxy_the_forwarded_proto_counts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
