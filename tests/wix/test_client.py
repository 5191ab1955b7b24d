"""The Wix client (``wix/client.py``): auth headers, request building, retries, app tokens. No network."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

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
from bookings_app.wix.errors import (
    WixError,
    WixPreconditionFailed,
    WixRateLimited,
    WixUnauthenticated,
    WixUnavailable,
)
from tests.wix.wire import BASE, CountingLimiter, Wire, app_error, fail, make_client, ok
from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, Faults, Sandbox
from wix_sandbox.transport import SandboxTransport

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


def test_each_call_is_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    wire = Wire(ok(**{"x-wix-request-id": "req-42"}))
    client, _ = make_client(wire)

    with caplog.at_level(logging.DEBUG, logger="bookings_app.wix"):
        client.post("/bookings/v2/bulk/bookings/create", {"secret": "body"}, idempotent=False)

    text = caplog.text
    assert "POST /bookings/v2/bulk/bookings/create -> 200" in text
    assert "req-42" in text
    assert " ms" in text
    assert "raw-api-key" not in text and "site-123" not in text and "secret" not in text


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
