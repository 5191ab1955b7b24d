"""Every way a Wix call can fail, as one exception hierarchy (CONTRACT.md §2).

Callers catch the class that matters to them (``WixNotFound``, ``WixPreconditionFailed`` …) and
read ``code`` for the Wix reason (``SESSION_CAPACITY_EXCEEDED``, ``ORDER_ALREADY_PAID`` …).
``transient`` says whether trying again later can help; ``WixUnavailable.maybe_applied`` says
whether Wix may have done the work even though no answer arrived — then the caller must look
before sending the same write again.
"""

from __future__ import annotations

from typing import Any

# The code the SDK reports when a response carries no applicationError (CONTRACT.md §2.1).
# INFERRED: the runtime derives it from the HTTP status; we use the gRPC-style names Wix itself
# uses in applicationError codes so callers see one vocabulary.
STATUS_CODES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    428: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def code_for_status(status: int | None) -> str:
    if status is None:
        return "UNAVAILABLE"
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    return "INTERNAL" if status >= 500 else "UNKNOWN"


class WixError(Exception):
    """A Wix call failed. ``status`` is None when no HTTP answer arrived."""

    transient_by_default = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or code_for_status(status)
        self.request_id = request_id
        self.details: dict[str, Any] = details or {}

    @property
    def data(self) -> dict[str, Any]:
        """``details.applicationError.data`` (e.g. CART_ALREADY_ORDERED's ``orderId``), or ``{}``."""
        app_error = self.details.get("applicationError")
        found = app_error.get("data") if isinstance(app_error, dict) else None
        return found if isinstance(found, dict) else {}

    @property
    def transient(self) -> bool:
        """True when the same call may succeed later (throttling, outages)."""
        return self.transient_by_default

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no response"
        rid = f", request id {self.request_id}" if self.request_id else ""
        return f"{self.code}: {self.message} ({where}{rid})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r})"


class WixValidationError(WixError):
    """400 with ``validationError``: the request's fields were rejected, see ``violations``."""

    def __init__(self, message: str, *, violations: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # Each: {field, description, violatedRule, (ruleName, data)}.
        self.violations: list[dict[str, Any]] = violations or []


class WixBadRequest(WixError):
    """400 with ``applicationError`` (or a bare 4xx Wix did not explain)."""


class WixUnauthenticated(WixError):
    """401: missing, invalid or expired API key / access token."""


class WixPermissionDenied(WixError):
    """403: the key lacks the permission, or ``wix-site-id`` is missing or wrong."""


class WixNotFound(WixError):
    """404: the entity (or the endpoint) does not exist."""


class WixConflict(WixError):
    """409: the entity already exists or its ``revision`` moved on."""


class WixPreconditionFailed(WixError):
    """428: a business rule said no (session full, order already paid, no credit left …)."""


class WixRateLimited(WixError):
    """429: over the rate budget; Wix rejected the call before doing anything."""

    transient_by_default = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class WixRateBudgetExhausted(WixRateLimited):
    """Our own limiter refused to wait any longer for a slot in the shared budget: nothing was
    sent. An interactive call (a person waiting) gets this after ``max_wait`` instead of
    sleeping until the minute frees up; the caller answers from the mirror and says so."""

    def __init__(self, message: str, *, retry_after: float | None = None, waited: float = 0.0) -> None:
        super().__init__(message, retry_after=retry_after, code="RATE_BUDGET_EXHAUSTED")
        self.waited = waited


class WixUnavailable(WixError):
    """5xx, timeout or connection failure.

    ``maybe_applied`` is True when a write may have taken effect without us hearing about it
    (read timeout, 502/504, dropped connection on a non-idempotent call): reconcile by reading
    Wix before sending it again.
    """

    transient_by_default = True

    def __init__(self, message: str, *, maybe_applied: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_applied = maybe_applied


_BY_STATUS: dict[int, type[WixError]] = {
    401: WixUnauthenticated,
    403: WixPermissionDenied,
    404: WixNotFound,
    409: WixConflict,
    412: WixPreconditionFailed,
    428: WixPreconditionFailed,
}

# After any 5xx (or a 408) a write's fate is unknown: a gateway may answer for an upstream that
# finished, and a bulk write (Bulk Create Booking …) may have applied in part before a 500/503.
# So a non-idempotent write is looked up in Wix before it is sent again (CONTRACT.md §20).


def error_from_response(
    status: int,
    body: Any,
    *,
    request_id: str | None = None,
    idempotent: bool = True,
    retry_after: float | None = None,
    reason: str = "",
) -> WixError:
    """The typed exception for a non-2xx answer. ``body`` is the parsed JSON, or raw text."""
    envelope = body if isinstance(body, dict) else {}
    raw_details = envelope.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    app_error = details.get("applicationError") if isinstance(details.get("applicationError"), dict) else None
    validation = details.get("validationError") if isinstance(details.get("validationError"), dict) else None

    message = envelope.get("message") if isinstance(envelope.get("message"), str) else ""
    if not message and app_error:
        message = str(app_error.get("description") or "")
    if not message:
        message = reason or f"HTTP {status}"
    if not envelope and isinstance(body, str) and body.strip():
        # A proxy's HTML error page: keep a little of it for the log, never the whole page.
        details = {"body": body.strip()[:500]}

    code = ""
    if app_error and app_error.get("code"):
        code = str(app_error["code"])
    elif validation is not None:
        code = "INVALID_ARGUMENT"
    common: dict[str, Any] = {"status": status, "code": code, "request_id": request_id, "details": details}

    if status == 400 and validation is not None:
        violations = validation.get("fieldViolations")
        return WixValidationError(message, violations=violations if isinstance(violations, list) else [], **common)
    if status == 429:
        return WixRateLimited(message, retry_after=retry_after, **common)
    if status == 408 or status >= 500:
        maybe_applied = not idempotent
        return WixUnavailable(message, maybe_applied=maybe_applied, **common)
    if status in _BY_STATUS:
        return _BY_STATUS[status](message, **common)
    if 400 <= status < 500:
        return WixBadRequest(message, **common)
    return WixError(message, **common)
