"""The sandbox's request handling: auth, fault injection, the error envelope.

Requests are dispatched through the route table in ``routing.py``; the handlers live in
``handlers/``, one module or package per Wix API area.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import routing
from .errors import SandboxError
from .faults import Faults
from .routing import Handler
from .routing import routed_templates as routed_templates  # public here too: wix_sandbox.app.routed_templates
from .state import SandboxState

DEFAULT_SITE_ID = "5a1e7c3d-0000-4000-8000-5a4db0c5fe11"
DEFAULT_API_KEY = "sandbox-api-key"
BOOKINGS_APP_ID = "13d21c63-b5ec-5912-8397-c3a5ddb27a97"
PRICING_PLANS_APP_ID = "1522827f-c56c-a5c9-2ac9-00f9e6ae12d3"


@dataclass
class SandboxRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    path_params: dict[str, str] = field(default_factory=dict)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, []))


@dataclass
class SandboxResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    # The transport / server must not deliver this response: the client sees a timeout or a
    # dropped connection. With ``applied`` the request's effects happened anyway.
    drop: bool = False


class Sandbox:
    def __init__(
        self,
        *,
        state: SandboxState | None = None,
        site_id: str = DEFAULT_SITE_ID,
        api_key: str = DEFAULT_API_KEY,
        app_id: str | None = None,
        app_secret: str | None = None,
        instance_id: str | None = None,
        faults: Faults | None = None,
        business_timezone: str = "Europe/London",
        currency: str = "GBP",
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state or SandboxState()
        self.site_id = site_id
        self.api_key = api_key
        self.app_id = app_id
        self.app_secret = app_secret
        self.instance_id = instance_id
        self.faults = faults or Faults()
        self.business_timezone = business_timezone
        self.currency = currency
        self._sleep = sleep
        self._monotonic = monotonic
        self._fault_rng = random.Random(self.faults.seed)
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()
        # Issued OAuth tokens: token -> expiry (monotonic seconds).
        self.tokens: dict[str, float] = {}
        self.token_ttl_seconds = 4 * 3600
        # Every call answered, for tests and benchmarks: (method, path, status).
        self.call_log: list[tuple[str, str, int]] = []

    # -- entry point --------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw_body: bytes,
    ) -> SandboxResponse:
        request_id = str(uuid.uuid4())
        response = self._handle(method.upper(), path, query, {k.lower(): v for k, v in headers.items()}, raw_body)
        response.headers.setdefault("x-wix-request-id", request_id)
        response.headers.setdefault("content-type", "application/json")
        self.call_log.append((method.upper(), path, response.status))
        return response

    def _handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], raw_body: bytes
    ) -> SandboxResponse:
        if self.faults.latency_ms:
            self._sleep(self.faults.latency_ms / 1000)
        try:
            body = json.loads(raw_body) if raw_body else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
        except ValueError:
            return _error(SandboxError(400, "INVALID_ARGUMENT", "Request body is not valid JSON"))

        matched = self._match(method, path)
        if matched is None:
            return _error(SandboxError(404, "NOT_FOUND", f"No such endpoint: {method} {path}"))
        handler, params = matched

        if path != "/oauth2/token":
            denied = self._check_auth(headers)
            if denied is not None:
                return denied

        throttled = self._rate_limit()
        if throttled is not None:
            return throttled
        rng = self._fault_rng
        if self.faults.error_5xx_rate and rng.random() < self.faults.error_5xx_rate:
            status = rng.choice([500, 502, 503, 504])
            return _error(
                SandboxError(status, "INTERNAL_ERROR" if status == 500 else "UNAVAILABLE", "Injected failure")
            )
        if self.faults.timeout_rate and rng.random() < self.faults.timeout_rate:
            return SandboxResponse(504, {}, drop=True)
        lose = bool(self.faults.lost_response_rate) and rng.random() < self.faults.lost_response_rate
        partial = (
            bool(self.faults.partial_bulk_rate)
            and method == "POST"
            and "/bulk/" in path
            and rng.random() < self.faults.partial_bulk_rate
        )
        if partial:
            body = _first_half(body)

        request = SandboxRequest(method, path, query, headers, body, params)
        try:
            with self.state.transaction():
                result = handler(self, request)
        except SandboxError as exc:
            return _error(exc)
        if partial:
            return _error(SandboxError(500, "INTERNAL_ERROR", "Injected failure after part of the bulk was applied"))
        if lose:
            return SandboxResponse(200, {}, drop=True)
        return SandboxResponse(200, result)

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        return routing.match(method, path)

    # -- auth -----------------------------------------------------------------------------

    def _check_auth(self, headers: dict[str, str]) -> SandboxResponse | None:
        token = headers.get("authorization", "")
        if not token:
            return _error(SandboxError(401, "UNAUTHENTICATED", "Missing Authorization header"))
        if token.lower().startswith("bearer "):
            return _error(
                SandboxError(401, "UNAUTHENTICATED", "Send the raw API key or access token, without 'Bearer'")
            )
        if token in self.tokens:
            if self.tokens[token] < self._monotonic():
                return _error(SandboxError(401, "UNAUTHENTICATED", "Access token expired"))
            return None  # app tokens are bound to the instance, no site header needed
        if token != self.api_key:
            return _error(SandboxError(401, "UNAUTHENTICATED", "Invalid API key or access token"))
        site = headers.get("wix-site-id")
        if headers.get("wix-account-id") and not site:
            return _error(SandboxError(403, "PERMISSION_DENIED", "This is a site-level API: send wix-site-id"))
        if not site:
            return _error(SandboxError(403, "PERMISSION_DENIED", "Missing wix-site-id header"))
        if site != self.site_id:
            return _error(SandboxError(403, "PERMISSION_DENIED", "API key has no access to this site"))
        return None

    def issue_token(self) -> tuple[str, int]:
        token = "sbx-token-" + uuid.uuid4().hex
        self.tokens[token] = self._monotonic() + self.token_ttl_seconds
        return token, self.token_ttl_seconds

    # -- faults ---------------------------------------------------------------------------

    def _rate_limit(self) -> SandboxResponse | None:
        budget = self.faults.rate_limit_per_minute
        if not budget:
            return None
        with self._lock:
            now = self._monotonic()
            while self._calls and self._calls[0] <= now - 60:
                self._calls.popleft()
            if len(self._calls) >= budget:
                retry_after = max(1, int(self._calls[0] + 60 - now) + 1)
                response = _error(SandboxError(429, "RESOURCE_EXHAUSTED", "Rate limit exceeded"))
                response.headers["retry-after"] = str(retry_after)
                return response
            self._calls.append(now)
        return None


def _first_half(body: dict[str, Any]) -> dict[str, Any]:
    """The bulk body with its item list (the first list field) cut to its first half, at least one."""
    for key, value in body.items():
        if isinstance(value, list) and value:
            return {**body, key: value[: max(len(value) // 2, 1)]}
    return body


def _error(exc: SandboxError) -> SandboxResponse:
    return SandboxResponse(exc.status, exc.body())
