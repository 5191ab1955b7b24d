"""Secrets stay out of error pages and logs, DEBUG or not.

Three layers, because one is never enough for a secret that reaches a page by a path nobody
thought of:

1. The Wix credentials are :class:`bookings_app.wix.config.Secret` strings: their ``repr`` and
   ``str`` are a mask, so ``settings.WIX`` on Django's DEBUG page, or in a log line, shows none.
2. :class:`SecretsFilter` (``DEFAULT_EXCEPTION_REPORTER_FILTER``) hides settings and request
   headers / environment entries whose *names* say secret (the DATABASE_URL, CACHE_URL and
   WIX_RATE_LIMIT_URL that may carry a password too), and a traceback's local variables named
   like a secret or holding one.
3. :class:`SecretsReporter` (``DEFAULT_EXCEPTION_REPORTER``) and :class:`RedactSecrets` (a
   logging filter on every handler) replace each configured secret *value* wherever it still
   appears in the finished page or log line — a plain copy made by ``reveal()``, a header, an
   exception message.

The values come from the settings: ``SECRET_KEY``, the Wix credentials, database passwords and
passwords in the cache URL. Values shorter than ``MIN_SECRET_LENGTH`` are not hunted for (a test's
``"k"`` would blank every k).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

MIN_SECRET_LENGTH = 8
MASK = "********************"  # as Django's own error-page filter hides a setting
LOG_MASK = "[redacted]"  # as backoffice.logs writes a secret it knows of

# Settings, request headers and environment entries (runserver copies os.environ into META).
HIDDEN_NAMES = re.compile(
    "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|AUTHORIZATION|DATABASE_URL|CACHE_URL|RATE_LIMIT_URL",
    flags=re.IGNORECASE,
)
# Local variables: narrower than the settings' rule, so an ``idempotency_key`` still shows.
HIDDEN_VARIABLES = re.compile(r"secret|passw|token|api_?key|authori[sz]ation|signature|credential", re.IGNORECASE)


def known_secrets() -> list[str]:
    """The configured secret values, longest first (so a secret inside another is masked whole)."""
    values: list[str] = [str(getattr(settings, "SECRET_KEY", "") or "")]
    wix = getattr(settings, "WIX", None)
    if wix is not None and hasattr(wix, "secrets"):
        values += wix.secrets()
    for database in getattr(settings, "DATABASES", {}).values():
        values.append(str(database.get("PASSWORD") or ""))
    for cache in getattr(settings, "CACHES", {}).values():
        locations = cache.get("LOCATION") or []
        for location in [locations] if isinstance(locations, str) else locations:
            try:
                values.append(urlsplit(str(location)).password or "")
            except ValueError:
                continue
    found = {v for v in values if len(v) >= MIN_SECRET_LENGTH}
    return sorted(found, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None, *, escaped: bool = False, mask: str = MASK) -> str:
    """``text`` with every secret value replaced by ``mask`` (``escaped``: also as HTML shows it)."""
    for secret in known_secrets() if secrets is None else secrets:
        text = text.replace(secret, mask)
        if escaped:
            text = text.replace(html.escape(secret), mask)
    return text


def _holds_secret(value: Any, secrets: list[str]) -> bool:
    try:
        shown = repr(value)
    except Exception:  # noqa: BLE001 - Django's page shows a failing repr as an error; nothing to hide
        return False
    return any(secret in shown for secret in secrets)


class SecretsFilter(SafeExceptionReporterFilter):
    hidden_settings = HIDDEN_NAMES

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        secrets = known_secrets()
        return [
            (name, self.cleansed_substitute)
            if HIDDEN_VARIABLES.search(name) or _holds_secret(value, secrets)
            else (name, value)
            for name, value in variables
        ]


class SecretsReporter(ExceptionReporter):
    def get_traceback_html(self) -> str:
        return redact(super().get_traceback_html(), escaped=True)

    def get_traceback_text(self) -> str:
        return redact(super().get_traceback_text())


class RedactSecrets(logging.Filter):
    """Masks every secret value in a log record's message and traceback; drops no record."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = known_secrets()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: the handler reports it as usual
            return True
        clean = redact(message, secrets, mask=LOG_MASK)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets, mask=LOG_MASK)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets, mask=LOG_MASK)
        return True
