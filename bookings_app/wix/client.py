"""The one place that sends HTTP to Wix.

``WixClient.request`` sets the base URL, auth headers and timeouts, waits for the rate limiter,
retries what is safe to retry, and turns every failure into a :mod:`bookings_app.wix.errors`
exception. The API modules beside this one build bodies and paths; nothing else touches httpx.

Retry policy:

* 429 is retried for every call: Wix refused it before doing anything.
* 502/503/504, timeouts and dropped connections are retried only for calls marked
  ``idempotent=True`` (reads, and writes whose repeat is harmless, such as Set Attendance).
  For other writes the caller gets ``WixUnavailable(maybe_applied=True)`` and must reconcile.
* A connection that never opened is retried for every call: nothing was sent.

Every attempt is one log line on ``bookings_app.wix`` (``event: wix.call``): the operation (the
API module's function, ``bookings.create_booking``), method and path (never the query, a header
or a body), HTTP status, Wix's request id, duration, attempt number and how long the rate
limiter made it wait — structured fields a JSON log formatter writes as they are.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import random as random_module
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from .errors import (
    WixError,
    WixRateBudgetExhausted,
    WixRateLimited,
    WixUnauthenticated,
    WixUnavailable,
    error_from_response,
)
from .ratelimit import NoopRateLimiter, RateLimiter

logger = logging.getLogger("bookings_app.wix")

DEFAULT_MAX_WAIT = 30.0  # seconds; never sleep longer than this between attempts
DEFAULT_BACKOFF_BASE = 0.5
TOKEN_PATH = "/oauth2/token"

_RETRYABLE_IF_IDEMPOTENT = frozenset({502, 503, 504})


# -- authentication -----------------------------------------------------------------------------


class TokenFetcher(Protocol):
    def __call__(self, body: dict[str, Any]) -> dict[str, Any]: ...


class AuthStrategy(Protocol):
    refreshable: bool

    def headers(self, fetch: TokenFetcher) -> dict[str, str]:
        """Headers that authenticate one call."""

    def invalidate(self, authorization: str) -> None:
        """Wix said 401 to ``authorization``: forget it so the next call gets a fresh one."""


class ApiKeyAuth:
    """Site-level API key: the raw key (no ``Bearer``) plus ``wix-site-id`` (CONTRACT.md §1.1)."""

    refreshable = False

    def __init__(self, api_key: str, site_id: str) -> None:
        if not api_key or not site_id:
            raise ValueError("API-key auth needs both an API key and a site id")
        self._headers = {"Authorization": api_key, "wix-site-id": site_id}

    def headers(self, fetch: TokenFetcher) -> dict[str, str]:
        return dict(self._headers)

    def invalidate(self, authorization: str) -> None:
        return None

    def __repr__(self) -> str:
        return "ApiKeyAuth(<redacted>)"


class AppTokenAuth:
    """Wix-app client-credentials tokens, cached until shortly before they expire (CONTRACT.md §1.2).

    Shared between clients of one process (``get_wix_client`` keeps one), hence the lock.
    """

    refreshable = True

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        instance_id: str,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = 60.0,
    ) -> None:
        if not (app_id and app_secret and instance_id):
            raise ValueError("App auth needs app id, app secret and instance id")
        self._app_id = app_id
        self._app_secret = app_secret
        self._instance_id = instance_id
        self._clock = clock
        self._margin = refresh_margin
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def headers(self, fetch: TokenFetcher) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._refresh(fetch)
            assert self._token is not None
            return {"Authorization": self._token}

    def invalidate(self, authorization: str) -> None:
        with self._lock:
            if self._token == authorization:
                self._token = None

    def _refresh(self, fetch: TokenFetcher) -> None:
        answer = fetch(
            {
                "grant_type": "client_credentials",
                "client_id": self._app_id,
                "client_secret": self._app_secret,
                "instance_id": self._instance_id,
            }
        )
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WixUnauthenticated("Wix returned no access_token for the app's client credentials", status=200)
        try:
            ttl = float(answer.get("expires_in") or 0)
        except (TypeError, ValueError):
            ttl = 0.0
        # Refresh a little early so a token never expires mid-flight; very short lifetimes
        # (tests, odd servers) refresh at half-life instead.
        margin = min(self._margin, ttl / 2)
        self._token = token
        self._expires_at = self._clock() + ttl - margin

    def __repr__(self) -> str:
        return "AppTokenAuth(<redacted>)"


# -- request building helpers for the API modules ---------------------------------------------------


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without the keys whose value is None (Wix treats absent and null alike, mostly)."""
    return {k: v for k, v in body.items() if v is not None}


def path_param(value: str, name: str = "id") -> str:
    """One URL path segment; refuses empty ids, which would silently hit another endpoint."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is required")
    return quote(value, safe="")


def require_batch(items: Iterable[Any] | None, *, limit: int, what: str) -> list[Any]:
    """A bulk call's items, checked against Wix's documented 1..limit before anything is sent."""
    items = list(items or [])
    if not items:
        raise ValueError(f"{what}: send at least one item")
    if len(items) > limit:
        raise ValueError(f"{what}: at most {limit} items per call, got {len(items)}")
    return items


def flatten_params(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """GET query parameters the way Wix reads them (CONTRACT.md §0.3).

    Nested objects become dotted keys (``sorting.fieldName=endDate``), lists repeat the key
    (``buyerIds=a&buyerIds=b``), booleans are ``true``/``false``, None is left out.
    """
    pairs: list[tuple[str, str]] = []

    def add(name: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, inner in value.items():
                add(f"{name}.{key}" if name else str(key), inner)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                add(name, item)
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        else:
            pairs.append((name, str(value)))

    add("", params or {})
    return pairs


def parse_retry_after(value: str | None, *, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)


# -- the client ------------------------------------------------------------------------------------


class WixClient:
    """Typed access to Wix REST over one ``httpx.Client``. Use as a context manager or ``close()``."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: AuthStrategy,
        transport: httpx.BaseTransport | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_retries: int = 4,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        max_wait: float = DEFAULT_MAX_WAIT,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.max_retries = max(int(max_retries), 0)
        self.rate_limiter: RateLimiter = rate_limiter or NoopRateLimiter()
        self.max_wait = max_wait
        self.backoff_base = backoff_base
        self._sleep = sleep
        self._random = random
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={"Accept": "application/json", "User-Agent": "front-desk-for-wix-bookings"},
            follow_redirects=False,
        )

    # -- public surface --

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        """Send one Wix call and return its JSON body; raise a ``WixError`` subclass otherwise."""
        method = method.upper()
        operation = _operation_name(method, path)
        refreshed = False
        while True:
            headers = self.auth.headers(self._fetch_token)
            try:
                return self._send(
                    method, path, json=json, params=params, idempotent=idempotent, headers=headers, operation=operation
                )
            except WixUnauthenticated:
                # An app token can expire early or be revoked: get a new one once and resend.
                # Safe even for writes, since Wix rejects a 401 before doing anything.
                if not self.auth.refreshable or refreshed:
                    raise
                refreshed = True
                self.auth.invalidate(headers.get("Authorization", ""))

    def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params, idempotent=True)

    def post(self, path: str, json: Mapping[str, Any] | None = None, *, idempotent: bool) -> dict[str, Any]:
        return self.request("POST", path, json=json, idempotent=idempotent)

    def patch(self, path: str, json: Mapping[str, Any] | None = None, *, idempotent: bool) -> dict[str, Any]:
        return self.request("PATCH", path, json=json, idempotent=idempotent)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WixClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WixClient(base_url={self.base_url!r}, auth={self.auth!r})"

    # -- internals --

    def _fetch_token(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._send(
            "POST", TOKEN_PATH, json=body, params=None, idempotent=True, headers={}, operation="oauth.token"
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        idempotent: bool,
        headers: dict[str, str],
        operation: str,
    ) -> dict[str, Any]:
        query = flatten_params(params)
        if method == "GET":
            content = None
        else:
            content = _encode_json(json or {})
            headers = {**headers, "Content-Type": "application/json"}
        attempt = 0
        while True:
            try:
                return self._attempt(
                    method, path, query, content, headers, idempotent, operation=operation, attempt=attempt + 1
                )
            except WixError as exc:
                if attempt >= self.max_retries or not _may_retry(exc, idempotent):
                    raise
                delay = self._delay(attempt, exc)
                attempt += 1
                logger.debug(
                    "wix %s %s failed (%s); retry %d/%d in %.2fs",
                    method,
                    path,
                    exc.code,
                    attempt,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)

    def _attempt(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        content: bytes | None,
        headers: dict[str, str],
        idempotent: bool,
        *,
        operation: str,
        attempt: int,
    ) -> dict[str, Any]:
        call = _CallLog(operation=operation, method=method, path=path, attempt=attempt)
        try:
            call.waited = self.rate_limiter.acquire()
        except WixRateBudgetExhausted as exc:
            call.waited = exc.waited
            call.done(error=exc)
            raise
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, params=query or None, content=content, headers=headers)
        except httpx.TransportError as exc:
            error = _transport_error(exc, idempotent=idempotent)
            call.done(duration=time.perf_counter() - started, error=error)
            raise error from exc
        request_id = response.headers.get("x-wix-request-id")
        call.done(duration=time.perf_counter() - started, status=response.status_code, request_id=request_id)
        if response.is_success:
            return _success_body(response, request_id)
        raise error_from_response(
            response.status_code,
            _error_body(response),
            request_id=request_id,
            idempotent=idempotent,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            reason=response.reason_phrase,
        )

    def _delay(self, attempt: int, exc: WixError) -> float:
        if isinstance(exc, WixRateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait)
        # Exponential backoff with "equal jitter": at least half the step, so workers that failed
        # together do not come back together.
        step = min(self.backoff_base * (2**attempt), self.max_wait)
        return step / 2 + self._random() * step / 2


class _CallLog:
    """One attempt's log line: what was called, and how it went."""

    def __init__(self, *, operation: str, method: str, path: str, attempt: int) -> None:
        self.operation = operation
        self.method = method
        self.path = path
        self.attempt = attempt
        self.waited = 0.0

    def done(
        self,
        *,
        duration: float | None = None,
        status: int | None = None,
        request_id: str | None = None,
        error: WixError | None = None,
    ) -> None:
        fields = {
            "event": "wix.call",
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "status": status,
            "wix_request_id": request_id,
            "duration_ms": None if duration is None else round(duration * 1000, 1),
            "attempt": self.attempt,
            "rate_limit_wait_ms": round(self.waited * 1000, 1),
            "error": error.code if error is not None else None,
        }
        outcome = status if status is not None else (error.code if error is not None else "?")
        level = logging.WARNING if status is None or status == 429 or status >= 500 else logging.INFO
        named = "" if self.operation == f"{self.method} {self.path}" else f"{self.operation}, "
        logger.log(
            level,
            "wix %s %s -> %s in %s ms (%sattempt %d, rate-limit wait %.0f ms, request id %s)",
            self.method,
            self.path,
            outcome,
            "-" if duration is None else f"{duration * 1000:.0f}",
            named,
            self.attempt,
            self.waited * 1000,
            request_id or "-",
            extra=fields,
        )


def _operation_name(method: str, path: str) -> str:
    """The API module function that made this call (``bookings.create_booking``): the nearest
    public function on the stack defined in a module of this package. Read off the stack rather
    than passed by each of the ~85 call sites, so it cannot drift from them; a few frames deep,
    so it costs microseconds. A call made on the client directly is named by method and path."""
    package = __name__.rpartition(".")[0] + "."
    frame = sys._getframe(2)
    for _ in range(12):
        if frame is None:
            break
        module = frame.f_globals.get("__name__", "")
        name = frame.f_code.co_name
        if module.startswith(package) and module != __name__ and not name.startswith(("_", "<")):
            return f"{module.rpartition('.')[2]}.{name}"
        frame = frame.f_back
    return f"{method} {path}"


def _may_retry(exc: WixError, idempotent: bool) -> bool:
    if isinstance(exc, WixRateBudgetExhausted):
        return False  # retrying would break the bound the caller asked for
    if isinstance(exc, WixRateLimited):
        return True
    if not isinstance(exc, WixUnavailable):
        return False
    if exc.status is None:
        # No answer: safe if nothing reached Wix (connect failed) or the call is idempotent.
        return idempotent or not exc.maybe_applied
    return idempotent and exc.status in _RETRYABLE_IF_IDEMPOTENT


def _transport_error(exc: httpx.TransportError, *, idempotent: bool) -> WixError:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return WixUnavailable(f"Could not reach Wix: {exc}", maybe_applied=False, code="UNAVAILABLE")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return WixError(f"Could not build the request to Wix: {exc}", code="INTERNAL")
    code = "DEADLINE_EXCEEDED" if isinstance(exc, httpx.TimeoutException) else "UNAVAILABLE"
    # The request left us; whether Wix acted on it is unknown.
    return WixUnavailable(f"No answer from Wix: {exc or type(exc).__name__}", maybe_applied=not idempotent, code=code)


def _encode_json(body: Mapping[str, Any]) -> bytes:
    return jsonlib.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _error_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _success_body(response: httpx.Response, request_id: str | None) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        raise WixError(
            "Wix answered with a body that is not JSON",
            status=response.status_code,
            code="INVALID_RESPONSE",
            request_id=request_id,
            details={"body": response.text[:500]},
        ) from None
    if not isinstance(body, dict):
        raise WixError(
            "Wix answered with JSON that is not an object",
            status=response.status_code,
            code="INVALID_RESPONSE",
            request_id=request_id,
        )
    return body
