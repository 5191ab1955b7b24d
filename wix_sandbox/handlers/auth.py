"""OAuth client-credentials tokens for Wix-app mode (CONTRACT.md §1.2)."""

from __future__ import annotations

from typing import Any

from ..app import Sandbox, SandboxRequest
from ..errors import SandboxError
from ..routing import route


@route("POST /oauth2/token")
def create_token(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    if body.get("grant_type") != "client_credentials":
        raise SandboxError(400, "INVALID_ARGUMENT", "grant_type must be client_credentials")
    if not sb.app_id or body.get("client_id") != sb.app_id or body.get("client_secret") != sb.app_secret:
        raise SandboxError(401, "UNAUTHENTICATED", "Invalid client_id or client_secret")
    if body.get("instance_id") != sb.instance_id:
        raise SandboxError(403, "PERMISSION_DENIED", "The app is not installed on this instance")
    token, ttl = sb.issue_token()
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
