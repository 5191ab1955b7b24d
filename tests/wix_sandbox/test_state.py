"""The sandbox's state (``state.py``): persisted across processes and restarts, all or nothing per request."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.builders import call, make_service
from wix_sandbox import Sandbox, SandboxError, SandboxState


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
