"""The sandbox as an httpx transport (``transport.py``)."""

from __future__ import annotations

import httpx
import pytest

from wix_sandbox import Faults, Sandbox
from wix_sandbox.transport import SandboxTransport


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
