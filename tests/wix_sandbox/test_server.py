"""The sandbox as a standalone HTTP server (``server.py``)."""

from __future__ import annotations

import threading

import httpx

from tests.wix_sandbox.builders import make_service
from wix_sandbox import DEFAULT_API_KEY, Sandbox, SandboxState
from wix_sandbox.server import make_server


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
