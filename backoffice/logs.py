"""Log lines: plain text by default, one JSON object per line with ``LOG_FORMAT=json``.

The app logs what an operator needs as structured fields in ``extra`` (``event``, ``operation``,
``status``, ``duration_ms`` … — a Wix call in ``bookings_app.wix.client``, a desk action's state
change in ``bookings_app.models.ledger``); the text format shows the sentence, the JSON format
the sentence *and* every field, so a log store can filter and graph them without parsing text.

No secret may reach a log line. The code never logs headers, bodies or settings; as a last guard
both formatters replace the values of the secrets in the environment (the Wix API key and app
secret, Django's secret key, the passwords in database, cache and Redis URLs) with
``[redacted]`` wherever they appear — in the message, a field or a traceback.

Plain Python on purpose (no Django import): ``logging.config.dictConfig`` builds these while the
settings load.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

REDACTED = "[redacted]"
# Environment variables whose whole value is a secret, and URLs that may carry a password.
SECRET_VARIABLES = ("WIX_API_KEY", "WIX_APP_SECRET", "DJANGO_SECRET_KEY")
URL_VARIABLES = ("DATABASE_URL", "CACHE_URL", "WIX_RATE_LIMIT_URL")
MIN_SECRET_LENGTH = 6  # shorter values ("1", "abc") would redact ordinary words

# What every LogRecord has: anything else on a record came from ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values this process was given (see the module docstring)."""
    environ = os.environ if environ is None else environ
    found = [environ.get(name, "") for name in SECRET_VARIABLES]
    for name in URL_VARIABLES:
        try:
            found.append(urlsplit(environ.get(name, "")).password or "")
        except ValueError:
            continue
    return [value for value in found if len(value) >= MIN_SECRET_LENGTH]


class RedactingFormatter(logging.Formatter):
    """``logging.Formatter`` whose lines never carry a secret of ``secrets`` (default: the
    environment's)."""

    def __init__(self, *args: Any, secrets: Iterable[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = environment_secrets() if secrets is None else [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]
        forms = set(values) | {json.dumps(v)[1:-1] for v in values}  # as written, and as JSON escapes it
        self.secrets = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    the record's ``extra`` fields, and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return self.redact(json.dumps(line, default=str, ensure_ascii=False))


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` setting: every line to stderr, as text or JSON."""
    if log_format not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be 'text' or 'json', not {log_format!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"()": "backoffice.logs.RedactingFormatter", "fmt": "%(levelname)s %(name)s: %(message)s"},
            "json": {"()": "backoffice.logs.JsonFormatter"},
        },
        "filters": {"redact_secrets": {"()": "bookings_app.redaction.RedactSecrets"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["redact_secrets"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"httpx": {"level": "WARNING"}},
    }
