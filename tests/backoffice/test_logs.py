"""Log lines (``backoffice/logs.py``): JSON with the structured fields when ``LOG_FORMAT=json``,
text otherwise, and the environment's secrets redacted from both."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.logs import JsonFormatter, RedactingFormatter, environment_secrets, logging_config

ROOT = Path(__file__).resolve().parents[2]
CANARY_KEY = "canary-KEY-0b1c2d3e4f"
CANARY_SECRET = "canary-SECRET-9a8b7c6d5e"


def _record(msg: str, *args: object, exc: BaseException | None = None, **extra: object) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.LogRecord("bookings_app.wix", logging.INFO, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_a_json_line_holds_the_message_and_every_extra_field() -> None:
    line = json.loads(JsonFormatter(secrets=[]).format(_record("wix %s -> %s", "GET /x", 200, status=200, attempt=2)))

    assert line["message"] == "wix GET /x -> 200" and line["level"] == "INFO" and line["logger"] == "bookings_app.wix"
    assert line["status"] == 200 and line["attempt"] == 2
    assert line["time"].endswith("+00:00")
    assert "args" not in line and "msg" not in line and "pathname" not in line


def test_a_json_line_carries_the_exception_and_turns_odd_values_into_text() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        record = _record("failed", exc=exc, request=object())

    line = json.loads(JsonFormatter(secrets=[]).format(record))

    assert "ValueError: boom" in line["exception"] and line["request"].startswith("<object")


def test_secrets_are_redacted_in_the_message_the_fields_and_the_traceback() -> None:
    try:
        raise RuntimeError(f"auth {CANARY_KEY} refused")
    except RuntimeError as exc:
        record = _record("sent %s", CANARY_KEY, exc=exc, header=f'"{CANARY_SECRET}"')

    for formatter in (JsonFormatter(secrets=[CANARY_KEY, CANARY_SECRET]), RedactingFormatter(secrets=[CANARY_KEY])):
        text = formatter.format(record)
        assert CANARY_KEY not in text and CANARY_SECRET not in text
        assert "[redacted]" in text


def test_the_secrets_are_the_keys_and_the_passwords_in_urls_of_the_environment() -> None:
    found = environment_secrets(
        {
            "WIX_API_KEY": CANARY_KEY,
            "WIX_APP_SECRET": CANARY_SECRET,
            "DJANGO_SECRET_KEY": "django-secret-key-123",
            "DATABASE_URL": "postgres://desk:db-password-1@db:5432/desk",
            "WIX_RATE_LIMIT_URL": "redis://:redis-password-2@cache:6379/0",
            "CACHE_URL": "not a url ::: [",
            "WIX_SITE_ID": "site-id-is-not-secret",
        }
    )
    assert sorted(found) == sorted(
        [CANARY_KEY, CANARY_SECRET, "django-secret-key-123", "db-password-1", "redis-password-2"]
    )
    assert environment_secrets({"WIX_API_KEY": "abc"}) == []  # too short to tell from a word


def test_log_format_must_be_text_or_json() -> None:
    assert logging_config(log_format="json", level="INFO")["handlers"]["console"]["formatter"] == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")


def test_with_log_format_json_a_process_writes_json_lines_and_no_secret(tmp_path: Path) -> None:
    """A real start-up: settings read ``LOG_FORMAT=json`` and a canary API key from the
    environment; a Wix call (refused: the sandbox does not know the canary key) and a careless
    log line that names the key both come out as JSON, the key redacted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIX_", "DJANGO_", "LOG_"))}
    env.update(
        LOG_FORMAT="json",
        WIX_API_KEY=CANARY_KEY,
        WIX_SITE_ID="site-1",
        DJANGO_SECRET_KEY="a-long-test-secret-key-for-this-process",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    code = f"""
import django, logging
django.setup()
from bookings_app.wix import services
from bookings_app.wix.client import ApiKeyAuth, WixClient
from wix_sandbox import Sandbox
from wix_sandbox.transport import SandboxTransport
client = WixClient(base_url="https://www.wixapis.com", auth=ApiKeyAuth({CANARY_KEY!r}, "site-1"),
                   transport=SandboxTransport(Sandbox()), max_retries=0)
try:
    services.query_services(client)
except Exception as exc:
    logging.getLogger("bookings_app.services").warning("call failed with key %s", {CANARY_KEY!r})
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "backoffice.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    call = next(line for line in lines if line.get("event") == "wix.call")
    assert call["status"] == 401 and call["operation"] == "services.query_services"
    careless = next(line for line in lines if line["logger"] == "bookings_app.services")
    assert careless["message"] == "call failed with key [redacted]"
    assert CANARY_KEY not in result.stderr and CANARY_KEY not in result.stdout
