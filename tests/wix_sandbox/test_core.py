"""The sandbox's own machinery: auth, error envelope, persistence, faults, standalone server."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from tests.wix_sandbox.builders import call, make_service
from wix_sandbox import DEFAULT_API_KEY, Faults, Sandbox, SandboxError, SandboxState
from wix_sandbox.app import routed_templates
from wix_sandbox.server import make_server
from wix_sandbox.transport import SandboxTransport


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


def test_every_endpoints_json_operation_the_app_uses_is_routed_at_its_path_and_aliases() -> None:
    from pathlib import Path

    ops = json.loads((Path(__file__).resolve().parents[2] / "wix_sandbox/endpoints.json").read_text())
    routed = routed_templates()
    routed_primary = {(m, p) for m, p in routed}
    missing = []
    for op in ops:
        if (op["http_method"], op["path"]) not in routed_primary:
            continue  # not an operation the sandbox claims
        for alias in op.get("alt_paths") or []:
            if (op["http_method"], alias) not in routed:
                missing.append((op["http_method"], alias))
    assert not missing


def test_state_persists_across_restarts_and_processes(tmp_path) -> None:
    path = str(tmp_path / "state.sqlite3")
    first = Sandbox(state=SandboxState(path))
    service = make_service(first, name="Persisted Swim")
    # A second process (another state object on the same file) sees the write…
    second = Sandbox(state=SandboxState(path))
    status, body = call(second, "GET", f"/_api/bookings/v2/services/{service['id']}")
    assert status == 200 and body["service"]["name"] == "Persisted Swim"
    # …and a write there reaches the first one on its next request.
    with second.state.transaction():
        edited = second.state.edit("services", service["id"])
        edited["name"] = "Renamed Swim"
        second.state.put("services", edited)
    status, body = call(first, "GET", f"/_api/bookings/v2/services/{service['id']}")
    assert body["service"]["name"] == "Renamed Swim"
    first.state.close()
    second.state.close()
    # After a restart the state is still there.
    restarted = Sandbox(state=SandboxState(path))
    assert call(restarted, "GET", f"/_api/bookings/v2/services/{service['id']}")[1]["service"]["name"] == "Renamed Swim"


def test_a_failed_request_changes_nothing(sandbox: Sandbox) -> None:
    service = make_service(sandbox)
    with pytest.raises(SandboxError):
        with sandbox.state.transaction():
            edited = sandbox.state.edit("services", service["id"])
            edited["name"] = "half-written"
            sandbox.state.put("services", edited)
            sandbox.state.put("services", {"id": "new-one", "name": "also half-written"})
            raise SandboxError(428, "SOMETHING", "rejected")
    assert sandbox.state.get("services", service["id"])["name"] == service["name"]
    assert sandbox.state.get("services", "new-one") is None


def test_faults_parse_from_a_spec_string() -> None:
    faults = Faults.parse(
        "latency_ms=150,error_5xx_rate=0.1,timeout_rate=0.05,lost_response_rate=0.02,rate_limit_per_minute=200"
    )
    assert faults.latency_ms == 150 and faults.error_5xx_rate == 0.1 and faults.rate_limit_per_minute == 200
    with pytest.raises(ValueError):
        Faults.parse("nonsense=1")


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


def test_lost_response_applies_the_change_but_the_client_sees_a_timeout() -> None:
    sb = Sandbox(faults=Faults(lost_response_rate=1.0))
    client = httpx.Client(
        transport=SandboxTransport(sb),
        base_url="https://www.wixapis.com",
        headers={"Authorization": sb.api_key, "wix-site-id": sb.site_id},
    )
    with pytest.raises(httpx.ReadTimeout):
        client.post("/contacts/v4/contacts", json={"info": {"name": {"first": "Lost", "last": "Response"}}})
    assert sb.state.count("contacts") == 1


def test_standalone_server_answers_real_http_with_wix_auth(tmp_path) -> None:
    sb = Sandbox(state=SandboxState(str(tmp_path / "s.sqlite3")))
    make_service(sb, name="Over HTTP")
    server = make_server(sb, 0)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        ok = httpx.post(
            f"{base}/bookings/v2/services/query",
            json={"query": {}},
            headers={"Authorization": DEFAULT_API_KEY, "wix-site-id": sb.site_id},
            timeout=5,
        )
        assert ok.status_code == 200 and ok.json()["services"][0]["name"] == "Over HTTP"
        assert ok.headers["x-wix-request-id"]
        denied = httpx.post(f"{base}/bookings/v2/services/query", json={}, headers={"Authorization": "bad"}, timeout=5)
        assert denied.status_code == 401
        assert denied.json()["details"]["applicationError"]["code"] == "UNAUTHENTICATED"
        forbidden = httpx.post(
            f"{base}/bookings/v2/services/query", json={}, headers={"Authorization": DEFAULT_API_KEY}, timeout=5
        )
        assert forbidden.status_code == 403
    finally:
        server.shutdown()
        server.server_close()
