"""The sandbox's request handling (``app.py``): auth, the error envelope, request ids, injected faults."""

from __future__ import annotations

from tests.wix_sandbox.builders import call
from wix_sandbox import Faults, Sandbox


def _send(sb: Sandbox, headers: dict[str, str], path: str = "/_api/bookings/v2/services/query") -> tuple[int, dict]:
    resp = sb.handle("POST", path, {}, headers, b"{}")
    return resp.status, resp.body


def test_missing_authorization_is_401_in_wix_error_format(sandbox: Sandbox) -> None:
    status, body = _send(sandbox, {"wix-site-id": sandbox.site_id})
    assert status == 401
    assert body["details"]["applicationError"]["code"] == "UNAUTHENTICATED"
    assert body["message"]


def test_bearer_prefix_is_rejected_because_wix_wants_the_raw_key(sandbox: Sandbox) -> None:
    status, _ = _send(sandbox, {"authorization": f"Bearer {sandbox.api_key}", "wix-site-id": sandbox.site_id})
    assert status == 401


def test_wrong_api_key_is_401(sandbox: Sandbox) -> None:
    status, _ = _send(sandbox, {"authorization": "nope", "wix-site-id": sandbox.site_id})
    assert status == 401


def test_missing_or_wrong_site_id_is_403(sandbox: Sandbox) -> None:
    assert _send(sandbox, {"authorization": sandbox.api_key})[0] == 403
    status, body = _send(sandbox, {"authorization": sandbox.api_key, "wix-site-id": "another-site"})
    assert status == 403
    assert body["details"]["applicationError"]["code"] == "PERMISSION_DENIED"


def test_unknown_path_is_404_and_every_response_has_a_request_id(sandbox: Sandbox) -> None:
    resp = sandbox.handle("GET", "/nope/v1/things", {}, {"authorization": sandbox.api_key}, b"")
    assert resp.status == 404
    assert resp.headers["x-wix-request-id"]


def test_malformed_json_body_is_400(sandbox: Sandbox) -> None:
    resp = sandbox.handle(
        "POST",
        "/_api/bookings/v2/services/query",
        {},
        {"authorization": sandbox.api_key, "wix-site-id": sandbox.site_id},
        b"{",
    )
    assert resp.status == 400


def test_rate_budget_answers_429_with_retry_after() -> None:
    clock = [1000.0]
    sb = Sandbox(faults=Faults(rate_limit_per_minute=3), monotonic=lambda: clock[0])
    statuses = [call(sb, "POST", "/_api/bookings/v2/services/query", {})[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = sb.handle(
        "POST", "/_api/bookings/v2/services/query", {}, {"authorization": sb.api_key, "wix-site-id": sb.site_id}, b"{}"
    )
    assert resp.status == 429 and int(resp.headers["retry-after"]) >= 1
    assert resp.body["details"]["applicationError"]["code"] == "RESOURCE_EXHAUSTED"
    clock[0] += 61
    assert call(sb, "POST", "/_api/bookings/v2/services/query", {})[0] == 200


def test_injected_5xx_and_timeouts_happen_at_the_configured_rate() -> None:
    sb = Sandbox(faults=Faults(error_5xx_rate=0.3, timeout_rate=0.2, seed=7))
    results = [
        sb.handle(
            "POST",
            "/_api/bookings/v2/services/query",
            {},
            {"authorization": sb.api_key, "wix-site-id": sb.site_id},
            b"{}",
        )
        for _ in range(500)
    ]
    errors = sum(1 for r in results if r.status >= 500 and not r.drop)
    drops = sum(1 for r in results if r.drop)
    assert 100 < errors < 200
    assert 40 < drops < 120
