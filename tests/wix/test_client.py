"""The Wix client: auth headers, retries, rate limiting and error mapping. No network."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bookings_app import wix as wix_pkg
from bookings_app.wix import services
from bookings_app.wix.client import (
    ApiKeyAuth,
    AppTokenAuth,
    WixClient,
    compact,
    flatten_params,
    parse_retry_after,
    path_param,
    require_batch,
)
from bookings_app.wix.config import WixConfig, WixConfigError
from bookings_app.wix.errors import (
    WixBadRequest,
    WixConflict,
    WixError,
    WixNotFound,
    WixPermissionDenied,
    WixPreconditionFailed,
    WixRateLimited,
    WixUnauthenticated,
    WixUnavailable,
    WixValidationError,
)
from bookings_app.wix.ratelimit import FileRateLimiter, NoopRateLimiter, RedisRateLimiter
from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, Faults, Sandbox
from wix_sandbox.transport import SandboxTransport

BASE = "https://www.wixapis.com"
REDIS_URL = "redis://127.0.0.1:6379/15"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Wire:
    """A recording httpx transport that answers from a script (the last reply repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [httpx.Response(200, json={})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) if r.content else {} for r in self.requests]


class CountingLimiter:
    def __init__(self) -> None:
        self.calls = 0

    def acquire(self) -> None:
        self.calls += 1


def ok(body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {}, headers=headers)


def fail(status: int, body: Any = None, **headers: str) -> httpx.Response:
    if body is None or isinstance(body, dict):
        return httpx.Response(status, json=body or {}, headers=headers)
    return httpx.Response(status, text=body, headers=headers)


def app_error(code: str, message: str = "rejected") -> dict[str, Any]:
    return {"message": message, "details": {"applicationError": {"code": code, "description": message, "data": {}}}}


def make_client(wire: Wire, *, auth: Any = None, **kwargs: Any) -> tuple[WixClient, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("max_retries", 3)
    kwargs.setdefault("random", lambda: 1.0)
    client = WixClient(
        base_url=BASE,
        auth=auth or ApiKeyAuth("raw-api-key", "site-123"),
        transport=wire.transport(),
        sleep=sleeps.append,
        **kwargs,
    )
    return client, sleeps


# -- auth and request building --------------------------------------------------------------------


def test_api_key_is_sent_raw_without_bearer_with_site_id() -> None:
    wire = Wire(ok({"services": []}))
    client, _ = make_client(wire)

    client.post("/_api/bookings/v2/services/query", {"query": {}}, idempotent=True)

    request = wire.requests[0]
    assert request.headers["Authorization"] == "raw-api-key"
    assert not request.headers["Authorization"].lower().startswith("bearer")
    assert request.headers["wix-site-id"] == "site-123"
    assert str(request.url) == f"{BASE}/_api/bookings/v2/services/query"


def test_post_sends_json_body_and_get_sends_none() -> None:
    wire = Wire(ok())
    client, _ = make_client(wire)

    client.post("/x", {"a": 1, "nested": {"b": "é"}}, idempotent=False)
    client.post("/y", idempotent=False)
    client.get("/z")

    post, empty_post, get = wire.requests
    assert post.method == "POST"
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.content) == {"a": 1, "nested": {"b": "é"}}
    assert json.loads(empty_post.content) == {}
    assert get.method == "GET" and get.content == b""


def test_client_uses_explicit_connect_and_read_timeouts() -> None:
    client, _ = make_client(Wire(), connect_timeout=2.5, read_timeout=12.0)

    timeout = client._http.timeout
    assert timeout.connect == 2.5
    assert timeout.read == 12.0


def test_get_params_flatten_nested_objects_with_dots_and_repeat_lists() -> None:
    wire = Wire(ok())
    client, _ = make_client(wire)

    client.get(
        "/pricing-plans/v2/orders",
        params={
            "buyerIds": ["m1", "m2"],
            "sorting": {"fieldName": "endDate", "order": "ASC"},
            "autoRenewCanceled": False,
            "limit": 50,
            "planIds": None,
        },
    )

    assert wire.requests[0].url.params.multi_items() == [
        ("buyerIds", "m1"),
        ("buyerIds", "m2"),
        ("sorting.fieldName", "endDate"),
        ("sorting.order", "ASC"),
        ("autoRenewCanceled", "false"),
        ("limit", "50"),
    ]


def test_flatten_params_handles_deep_nesting_and_lists_of_objects() -> None:
    pairs = flatten_params({"a": {"b": {"c": 1}}, "items": [{"id": "x"}, {"id": "y"}], "flag": True})

    assert pairs == [("a.b.c", "1"), ("items.id", "x"), ("items.id", "y"), ("flag", "true")]


def test_path_params_are_url_quoted_and_empty_ids_are_refused() -> None:
    assert path_param("a b/c") == "a%20b%2Fc"
    with pytest.raises(ValueError, match="booking_id"):
        path_param("", "booking_id")


def test_compact_drops_only_none() -> None:
    assert compact({"a": None, "b": False, "c": 0, "d": {}}) == {"b": False, "c": 0, "d": {}}


def test_require_batch_refuses_empty_and_oversized_batches() -> None:
    assert require_batch(iter([1, 2]), limit=2, what="X") == [1, 2]
    with pytest.raises(ValueError, match="at least one"):
        require_batch([], limit=2, what="X")
    with pytest.raises(ValueError, match="at most 2"):
        require_batch([1, 2, 3], limit=2, what="X")


def test_success_returns_parsed_body_and_empty_body_is_empty_dict() -> None:
    wire = Wire(ok({"booking": {"id": "b1"}}), httpx.Response(200, content=b""))
    client, _ = make_client(wire)

    assert client.get("/a") == {"booking": {"id": "b1"}}
    assert client.get("/b") == {}


def test_success_with_non_json_body_is_a_typed_error() -> None:
    wire = Wire(httpx.Response(200, text="<html>hi</html>", headers={"x-wix-request-id": "r-1"}))
    client, _ = make_client(wire)

    with pytest.raises(WixError) as excinfo:
        client.get("/a")
    assert excinfo.value.code == "INVALID_RESPONSE"
    assert excinfo.value.request_id == "r-1"


def test_context_manager_closes_the_http_client() -> None:
    client, _ = make_client(Wire())
    with client as wix:
        assert wix is client
    assert client._http.is_closed


def test_each_call_is_logged_at_debug_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    wire = Wire(ok(**{"x-wix-request-id": "req-42"}))
    client, _ = make_client(wire)

    with caplog.at_level(logging.DEBUG, logger="bookings_app.wix"):
        client.post("/bookings/v2/bulk/bookings/create", {"secret": "body"}, idempotent=False)

    text = caplog.text
    assert "POST /bookings/v2/bulk/bookings/create -> 200" in text
    assert "req-42" in text
    assert " ms" in text
    assert "raw-api-key" not in text and "site-123" not in text and "secret" not in text


# -- error mapping ----------------------------------------------------------------------------------


def test_400_validation_error_keeps_field_violations() -> None:
    violations = [
        {"field": "booking.bookedEntity", "description": "is required", "violatedRule": "REQUIRED_FIELD"},
        {"field": "booking.totalParticipants", "description": "must be ≥ 1", "violatedRule": "MIN"},
    ]
    body = {"message": "invalid booking", "details": {"validationError": {"fieldViolations": violations}}}
    client, _ = make_client(Wire(fail(400, body, **{"x-wix-request-id": "req-v"})))

    with pytest.raises(WixValidationError) as excinfo:
        client.post("/_api/bookings-service/v2/bookings", {}, idempotent=False)

    err = excinfo.value
    assert err.status == 400
    assert err.code == "INVALID_ARGUMENT"
    assert err.violations == violations
    assert err.message == "invalid booking"
    assert err.request_id == "req-v"
    assert not err.transient


def test_400_application_error_is_bad_request_with_its_code() -> None:
    client, _ = make_client(Wire(fail(400, app_error("SESSION_ID_NOT_PROVIDED", "send a session"))))

    with pytest.raises(WixBadRequest) as excinfo:
        client.post("/bookings/bookings-attendance/set", {}, idempotent=True)

    assert excinfo.value.code == "SESSION_ID_NOT_PROVIDED"
    assert excinfo.value.details["applicationError"]["description"] == "send a session"
    assert not isinstance(excinfo.value, WixValidationError)


@pytest.mark.parametrize(
    ("status", "code", "exc_type"),
    [
        (401, "UNAUTHENTICATED", WixUnauthenticated),
        (403, "PERMISSION_DENIED", WixPermissionDenied),
        (404, "BOOKING_NOT_FOUND", WixNotFound),
        (409, "INVALID_REVISION", WixConflict),
        (428, "SESSION_CAPACITY_EXCEEDED", WixPreconditionFailed),
        (428, "ORDER_ALREADY_PAID", WixPreconditionFailed),
        (428, "NOT_ENOUGH_BALANCE", WixPreconditionFailed),
    ],
)
def test_status_maps_to_typed_error_keeping_code_and_request_id(status: int, code: str, exc_type: type) -> None:
    wire = Wire(fail(status, app_error(code, "nope"), **{"X-Wix-Request-Id": f"req-{status}"}))
    client, sleeps = make_client(wire)

    with pytest.raises(exc_type) as excinfo:
        client.post("/some/write", {}, idempotent=True)

    err = excinfo.value
    assert (err.status, err.code, err.message, err.request_id) == (status, code, "nope", f"req-{status}")
    assert not err.transient
    assert len(wire.requests) == 1 and sleeps == []  # business rejections are never retried
    assert code in str(err) and f"req-{status}" in str(err)


def test_bare_error_without_details_gets_code_from_status() -> None:
    client, _ = make_client(Wire(fail(404, {"message": "no such thing"})))

    with pytest.raises(WixNotFound) as excinfo:
        client.get("/x")
    assert excinfo.value.code == "NOT_FOUND"
    assert excinfo.value.message == "no such thing"


def test_non_json_error_body_still_maps_cleanly() -> None:
    wire = Wire(fail(502, "<html><body>Bad gateway from the proxy</body></html>"))
    client, _ = make_client(wire, max_retries=0)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/ecom/v1/checkouts", {}, idempotent=False)

    err = excinfo.value
    assert err.status == 502
    assert err.code == "UNAVAILABLE"
    assert err.message == "Bad Gateway"
    assert "Bad gateway from the proxy" in err.details["body"]
    assert err.transient


def test_unknown_4xx_is_bad_request() -> None:
    client, _ = make_client(Wire(fail(405, {"message": "method not allowed"})))
    with pytest.raises(WixBadRequest):
        client.get("/x")


def test_429_is_rate_limited_with_retry_after() -> None:
    client, _ = make_client(Wire(fail(429, app_error("RESOURCE_EXHAUSTED"), **{"Retry-After": "7"})), max_retries=0)

    with pytest.raises(WixRateLimited) as excinfo:
        client.get("/x")
    assert excinfo.value.retry_after == 7.0
    assert excinfo.value.status == 429
    assert excinfo.value.transient


@pytest.mark.parametrize(
    ("status", "idempotent", "maybe_applied"),
    [
        (500, False, False),
        (502, False, True),
        (503, False, False),
        (504, False, True),
        (502, True, False),
        (504, True, False),
    ],
)
def test_5xx_is_unavailable_and_says_whether_a_write_may_have_happened(
    status: int, idempotent: bool, maybe_applied: bool
) -> None:
    client, _ = make_client(Wire(fail(status, app_error("UNAVAILABLE"))), max_retries=0)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/x", {}, idempotent=idempotent)
    assert excinfo.value.status == status
    assert excinfo.value.maybe_applied is maybe_applied
    assert excinfo.value.transient


def test_read_timeout_on_a_write_may_have_been_applied() -> None:
    wire = Wire(httpx.ReadTimeout("slow"))
    client, sleeps = make_client(wire)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/_api/bookings-service/v2/bookings", {}, idempotent=False)

    err = excinfo.value
    assert err.status is None
    assert err.code == "DEADLINE_EXCEEDED"
    assert err.maybe_applied is True
    assert len(wire.requests) == 1 and sleeps == []


def test_dropped_connection_on_a_write_may_have_been_applied() -> None:
    wire = Wire(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    client, _ = make_client(wire)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/ecom/v1/payments/orders/o1/add-payment", {}, idempotent=False)
    assert excinfo.value.maybe_applied is True
    assert len(wire.requests) == 1


def test_connection_refused_is_unavailable_and_not_applied() -> None:
    client, _ = make_client(Wire(httpx.ConnectError("refused")), max_retries=0)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/x", {}, idempotent=False)
    assert excinfo.value.maybe_applied is False
    assert excinfo.value.code == "UNAVAILABLE"


# -- retries ------------------------------------------------------------------------------------


def test_idempotent_call_is_retried_on_503_with_growing_backoff() -> None:
    wire = Wire(fail(503), fail(503), fail(503), ok({"done": True}))
    client, sleeps = make_client(wire, backoff_base=0.5, random=lambda: 1.0)

    assert client.post("/query", {}, idempotent=True) == {"done": True}
    assert len(wire.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_jitter_keeps_at_least_half_the_step() -> None:
    wire = Wire(fail(504), ok())
    client, sleeps = make_client(wire, backoff_base=2.0, random=lambda: 0.0)

    client.get("/x")
    assert sleeps == [1.0]


def test_backoff_is_capped_at_max_wait() -> None:
    wire = Wire(fail(503), fail(503), ok())
    client, sleeps = make_client(wire, backoff_base=40.0, max_wait=30.0, random=lambda: 1.0)

    client.get("/x")
    assert sleeps == [30.0, 30.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_non_idempotent_call_is_not_retried_on_5xx(status: int) -> None:
    wire = Wire(fail(status), ok())
    client, sleeps = make_client(wire)

    with pytest.raises(WixUnavailable):
        client.post("/_api/bookings-service/v2/bookings", {}, idempotent=False)
    assert len(wire.requests) == 1
    assert sleeps == []


def test_500_is_not_retried_even_when_idempotent() -> None:
    wire = Wire(fail(500), ok())
    client, _ = make_client(wire)

    with pytest.raises(WixUnavailable):
        client.get("/x")
    assert len(wire.requests) == 1


def test_retries_stop_after_max_retries() -> None:
    wire = Wire(fail(503))
    client, sleeps = make_client(wire, max_retries=2)

    with pytest.raises(WixUnavailable) as excinfo:
        client.get("/x")
    assert len(wire.requests) == 3
    assert len(sleeps) == 2
    assert excinfo.value.maybe_applied is False


def test_zero_max_retries_sends_once() -> None:
    wire = Wire(fail(503))
    client, _ = make_client(wire, max_retries=0)

    with pytest.raises(WixUnavailable):
        client.get("/x")
    assert len(wire.requests) == 1


def test_429_is_retried_even_for_non_idempotent_calls_honouring_retry_after() -> None:
    wire = Wire(fail(429, app_error("RESOURCE_EXHAUSTED"), **{"Retry-After": "7"}), ok({"booking": {"id": "b"}}))
    client, sleeps = make_client(wire)

    result = client.post("/_api/bookings-service/v2/bookings", {"booking": {}}, idempotent=False)

    assert result == {"booking": {"id": "b"}}
    assert len(wire.requests) == 2
    assert sleeps == [7.0]


def test_retry_after_is_capped() -> None:
    wire = Wire(fail(429, **{"Retry-After": "120"}), ok())
    client, sleeps = make_client(wire, max_wait=30.0)

    client.get("/x")
    assert sleeps == [30.0]


def test_429_without_retry_after_uses_backoff() -> None:
    wire = Wire(fail(429), ok())
    client, sleeps = make_client(wire, backoff_base=0.5, random=lambda: 1.0)

    client.post("/x", {}, idempotent=False)
    assert sleeps == [0.5]


def test_429_retries_stop_after_max_retries_and_raise_rate_limited() -> None:
    wire = Wire(fail(429, **{"Retry-After": "1"}))
    client, sleeps = make_client(wire, max_retries=2)

    with pytest.raises(WixRateLimited) as excinfo:
        client.post("/x", {}, idempotent=False)
    assert excinfo.value.retry_after == 1.0
    assert sleeps == [1.0, 1.0]
    assert len(wire.requests) == 3


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Sat, 21 Nov 2026 09:00:05 GMT", now=lambda: now) == 5.0
    assert parse_retry_after("Sat, 21 Nov 2026 08:00:00 GMT", now=lambda: now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_idempotent_call_is_retried_after_a_timeout() -> None:
    wire = Wire(httpx.ReadTimeout("slow"), ok({"services": []}))
    client, sleeps = make_client(wire)

    assert client.get("/_api/bookings/v2/services/s1") == {"services": []}
    assert len(wire.requests) == 2 and len(sleeps) == 1


def test_idempotent_call_is_retried_after_a_dropped_connection() -> None:
    wire = Wire(httpx.ReadError("reset"), ok())
    client, _ = make_client(wire)

    client.post("/bookings/bookings-attendance/set", {}, idempotent=True)
    assert len(wire.requests) == 2


def test_write_is_retried_when_the_connection_never_opened() -> None:
    wire = Wire(httpx.ConnectError("refused"), httpx.ConnectTimeout("slow handshake"), ok({"ok": 1}))
    client, sleeps = make_client(wire)

    assert client.post("/_api/bookings-service/v2/bookings", {}, idempotent=False) == {"ok": 1}
    assert len(wire.requests) == 3 and len(sleeps) == 2


def test_business_rejections_are_not_retried_even_when_idempotent() -> None:
    wire = Wire(fail(428, app_error("SESSION_CAPACITY_EXCEEDED")), ok())
    client, _ = make_client(wire)

    with pytest.raises(WixPreconditionFailed):
        client.post("/x", {}, idempotent=True)
    assert len(wire.requests) == 1


# -- rate limiter hook -------------------------------------------------------------------------------


def test_every_attempt_waits_for_the_rate_limiter() -> None:
    limiter = CountingLimiter()
    wire = Wire(fail(503), ok())
    client, _ = make_client(wire, rate_limiter=limiter)

    client.get("/x")
    assert limiter.calls == 2


# -- app (OAuth client-credentials) mode ------------------------------------------------------------


class TokenServer:
    """Answers /oauth2/token with numbered tokens and everything else per a per-token rule."""

    def __init__(self, *, expires_in: int = 3600, reject: set[str] | None = None) -> None:
        self.issued = 0
        self.expires_in = expires_in
        self.reject = reject or set()
        self.token_requests: list[dict[str, Any]] = []
        self.api_auth: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            self.token_requests.append(json.loads(request.content))
            assert "Authorization" not in request.headers
            self.issued += 1
            return httpx.Response(200, json={"access_token": f"tok-{self.issued}", "expires_in": self.expires_in})
        token = request.headers.get("Authorization", "")
        self.api_auth.append(token)
        if token in self.reject:
            return httpx.Response(401, json=app_error("UNAUTHENTICATED", "token expired"))
        return httpx.Response(200, json={"ok": token})


def app_client(server: TokenServer, clock: list[float]) -> WixClient:
    auth = AppTokenAuth(app_id="app-1", app_secret="secret-1", instance_id="inst-1", clock=lambda: clock[0])
    return WixClient(base_url=BASE, auth=auth, transport=httpx.MockTransport(server), sleep=lambda s: None)


def test_app_token_is_fetched_once_and_sent_raw() -> None:
    server = TokenServer()
    client = app_client(server, [0.0])

    client.get("/a")
    client.post("/b", {}, idempotent=False)

    assert server.issued == 1
    assert server.token_requests == [
        {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": "secret-1", "instance_id": "inst-1"}
    ]
    assert server.api_auth == ["tok-1", "tok-1"]


def test_app_token_is_refreshed_before_it_expires() -> None:
    server = TokenServer(expires_in=3600)
    clock = [0.0]
    client = app_client(server, clock)

    client.get("/a")
    clock[0] = 3500.0
    client.get("/b")
    clock[0] = 3545.0  # within a minute of expiry: refresh before it can expire mid-flight
    client.get("/c")
    clock[0] = 3600.0
    client.get("/d")

    assert server.api_auth == ["tok-1", "tok-1", "tok-2", "tok-2"]


def test_app_token_is_refreshed_once_on_401_and_the_call_resent() -> None:
    server = TokenServer(reject={"tok-1"})
    client = app_client(server, [0.0])

    result = client.post("/_api/bookings-service/v2/bookings", {}, idempotent=False)

    assert result == {"ok": "tok-2"}
    assert server.api_auth == ["tok-1", "tok-2"]
    assert server.issued == 2


def test_app_mode_gives_up_after_one_refresh() -> None:
    server = TokenServer(reject={"tok-1", "tok-2", "tok-3"})
    client = app_client(server, [0.0])

    with pytest.raises(WixUnauthenticated):
        client.get("/a")
    assert server.issued == 2
    assert len(server.api_auth) == 2


def test_api_key_mode_does_not_retry_a_401() -> None:
    wire = Wire(fail(401, app_error("UNAUTHENTICATED")), ok())
    client, _ = make_client(wire)

    with pytest.raises(WixUnauthenticated):
        client.get("/a")
    assert len(wire.requests) == 1


def test_rejected_app_credentials_raise_unauthenticated() -> None:
    wire = Wire(fail(401, app_error("UNAUTHENTICATED", "Invalid client_id or client_secret")))
    auth = AppTokenAuth(app_id="a", app_secret="wrong", instance_id="i")
    client, _ = make_client(wire, auth=auth)

    with pytest.raises(WixUnauthenticated):
        client.get("/a")
    assert [r.url.path for r in wire.requests] == ["/oauth2/token"]


def test_app_mode_against_the_sandbox_gets_a_token_and_renews_it_when_expired() -> None:
    now = [1000.0]
    sandbox = Sandbox(app_id="app-1", app_secret="secret-1", instance_id="inst-1", monotonic=lambda: now[0])
    sandbox.token_ttl_seconds = 600
    clock = [0.0]
    auth = AppTokenAuth(app_id="app-1", app_secret="secret-1", instance_id="inst-1", clock=lambda: clock[0])
    client = WixClient(base_url=BASE, auth=auth, transport=SandboxTransport(sandbox), sleep=lambda s: None)

    assert services.query_services(client)["services"] == []
    now[0] += 700  # the sandbox expires the token; our clock has not noticed yet
    assert services.query_services(client)["services"] == []

    statuses = [(path, status) for _, path, status in sandbox.call_log]
    assert statuses == [
        ("/oauth2/token", 200),
        ("/_api/bookings/v2/services/query", 200),
        ("/_api/bookings/v2/services/query", 401),
        ("/oauth2/token", 200),
        ("/_api/bookings/v2/services/query", 200),
    ]


def test_api_key_against_the_sandbox_works_and_bearer_would_not() -> None:
    sandbox = Sandbox()
    good = WixClient(
        base_url=BASE, auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID), transport=SandboxTransport(sandbox)
    )
    assert "services" in services.query_services(good)

    bearer = WixClient(
        base_url=BASE,
        auth=ApiKeyAuth(f"Bearer {DEFAULT_API_KEY}", DEFAULT_SITE_ID),
        transport=SandboxTransport(sandbox),
    )
    with pytest.raises(WixUnauthenticated):
        services.query_services(bearer)


def test_sandbox_throttling_surfaces_as_rate_limited_after_retries() -> None:
    sandbox = Sandbox(faults=Faults(rate_limit_per_minute=1))
    sleeps: list[float] = []
    client = WixClient(
        base_url=BASE,
        auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID),
        transport=SandboxTransport(sandbox),
        max_retries=2,
        sleep=sleeps.append,
    )
    services.query_services(client)

    with pytest.raises(WixRateLimited) as excinfo:
        services.query_services(client)
    assert excinfo.value.retry_after and excinfo.value.retry_after > 0
    assert sleeps == [min(excinfo.value.retry_after, 30.0)] * 2
    assert excinfo.value.request_id


# -- rate limiters ----------------------------------------------------------------------------


def test_noop_limiter_never_blocks() -> None:
    limiter = NoopRateLimiter()
    for _ in range(1000):
        limiter.acquire()


def test_file_limiter_shared_by_two_instances_blocks_past_the_budget(tmp_path: Path) -> None:
    clock = [1_000_000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    path = tmp_path / "var" / "wix-rate-limit.window"
    web = FileRateLimiter(path, per_minute=3, clock=lambda: clock[0], sleep=sleep)
    worker = FileRateLimiter(path, per_minute=3, clock=lambda: clock[0], sleep=sleep)

    web.acquire()
    clock[0] += 10
    worker.acquire()
    web.acquire()
    assert sleeps == []

    worker.acquire()  # fourth call in the same minute waits for the first to age out

    # The window is a minute plus a second of margin for the trip to Wix.
    assert sleeps == [pytest.approx(51.0)]
    assert clock[0] == pytest.approx(1_000_061.0)
    assert len(path.read_text().splitlines()) == 3


def test_file_limiter_frees_slots_as_the_window_slides(tmp_path: Path) -> None:
    clock = [500.0]
    sleeps: list[float] = []
    limiter = FileRateLimiter(tmp_path / "w", per_minute=2, clock=lambda: clock[0], sleep=sleeps.append)

    limiter.acquire()
    limiter.acquire()
    clock[0] += 61
    limiter.acquire()
    assert sleeps == []


def test_file_limiter_survives_a_corrupt_window_file(tmp_path: Path) -> None:
    path = tmp_path / "w"
    path.write_text("garbage\n\n1.5.6\n")
    limiter = FileRateLimiter(path, per_minute=2, clock=lambda: 100.0, sleep=lambda s: None)

    limiter.acquire()
    assert path.read_text() == "100.0\n"


def test_limiter_refuses_an_empty_budget(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FileRateLimiter(tmp_path / "w", per_minute=0)


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


def test_redis_limiter_shared_by_two_instances_blocks_past_the_budget(redis_url: str) -> None:
    import time

    import redis

    key = f"test:wix-rate-limit:{uuid.uuid4().hex}"
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    web = RedisRateLimiter(redis_url, key=key, per_minute=2, window_seconds=1.0, sleep=sleep)
    worker = RedisRateLimiter(redis_url, key=key, per_minute=2, window_seconds=1.0, sleep=sleep)
    try:
        web.acquire()
        time.sleep(0.4)
        worker.acquire()
        assert sleeps == []

        web.acquire()  # waits until web's first call leaves the window; worker's is still in it

        assert sleeps and 0.3 < sum(sleeps) <= 1.0
        assert redis.Redis.from_url(redis_url).zcard(key) == 2
    finally:
        redis.Redis.from_url(redis_url).delete(key)


def test_redis_limiter_lets_calls_through_when_redis_is_down() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", per_minute=1, sleep=lambda s: None)
    limiter.acquire()
    limiter.acquire()


# -- get_wix_client ---------------------------------------------------------------------------------


@pytest.fixture
def wix_settings(settings: Any, tmp_path: Path) -> Any:
    settings.BASE_DIR = tmp_path
    wix_pkg.clear_cached_state()
    yield settings
    wix_pkg.clear_cached_state()


def test_sandbox_mode_client_talks_to_one_shared_in_process_sandbox(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="sandbox")

    with wix_pkg.get_wix_client() as first, wix_pkg.get_wix_client() as second:
        assert isinstance(first.rate_limiter, NoopRateLimiter)
        assert first.auth.headers(lambda body: {}) == {"Authorization": DEFAULT_API_KEY, "wix-site-id": DEFAULT_SITE_ID}
        assert services.query_services(first) == services.query_services(second)
    sandbox = wix_pkg.get_sandbox()
    assert sandbox is wix_pkg.get_sandbox()
    assert [path for _, path, _ in sandbox.call_log] == ["/_api/bookings/v2/services/query"] * 2


def test_sandbox_mode_with_faults_uses_the_shared_file_limiter(wix_settings: Any, tmp_path: Path) -> None:
    wix_settings.WIX = WixConfig(mode="sandbox", sandbox_faults="latency_ms=0", rate_limit_per_minute=50)

    with wix_pkg.get_wix_client() as client:
        limiter = client.rate_limiter
        assert isinstance(limiter, FileRateLimiter)
        assert limiter.path == tmp_path / "var" / wix_pkg.RATE_LIMIT_FILE
        assert limiter.per_minute == 50
        services.query_services(client)
    assert limiter.path.exists()


def test_api_key_mode_client_sets_base_url_auth_timeouts_and_retries(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(
        mode="api_key",
        api_key="key-1",
        site_id="site-1",
        base_url="https://wix.example",
        connect_timeout=3.0,
        read_timeout=9.0,
        max_retries=2,
    )

    with wix_pkg.get_wix_client() as client:
        assert client.base_url == "https://wix.example"
        assert client.auth.headers(lambda body: {}) == {"Authorization": "key-1", "wix-site-id": "site-1"}
        assert (client._http.timeout.connect, client._http.timeout.read) == (3.0, 9.0)
        assert client.max_retries == 2
        assert isinstance(client.rate_limiter, FileRateLimiter)


def test_app_mode_clients_share_one_token_cache(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="app", app_id="a", app_secret="s", instance_id="i")

    with wix_pkg.get_wix_client() as first, wix_pkg.get_wix_client() as second:
        assert isinstance(first.auth, AppTokenAuth)
        assert first.auth is second.auth


def test_rate_limit_url_selects_the_redis_limiter(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="site-9", rate_limit_url=REDIS_URL)

    with wix_pkg.get_wix_client() as client:
        assert isinstance(client.rate_limiter, RedisRateLimiter)
        assert client.rate_limiter.key == "wix:rate-limit:site-9"


def test_interactive_client_waits_briefly_and_never_retries(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="s", read_timeout=20.0, max_retries=4)

    with wix_pkg.get_wix_client(interactive=True) as quick, wix_pkg.get_wix_client() as patient:
        assert quick.max_retries == 0 and patient.max_retries == 4
        assert quick._http.timeout.read == wix_pkg.INTERACTIVE_READ_TIMEOUT
        assert patient._http.timeout.read == 20.0


def test_get_wix_client_refuses_a_misconfiguration(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="")
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()

    wix_settings.WIX = WixConfig(mode="carrier-pigeon")
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()

    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="s", rate_limit_url="http://nope")
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()

    wix_settings.WIX = {"mode": "sandbox"}
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()


def test_secrets_do_not_leak_into_reprs() -> None:
    client, _ = make_client(Wire())
    auth = AppTokenAuth(app_id="a", app_secret="very-secret", instance_id="i")
    assert "raw-api-key" not in repr(client)
    assert "very-secret" not in repr(auth)
