"""The sandbox as an in-process httpx transport (tests, and the app's default)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx  # noqa: TID251 - the sandbox is an httpx transport

from .app import Sandbox


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        response = self.sandbox.handle(
            request.method,
            request.url.path,
            query,
            dict(request.headers),
            request.read(),
        )
        if response.drop:
            raise httpx.ReadTimeout("sandbox: response lost (injected fault)", request=request)
        return httpx.Response(
            response.status,
            headers=response.headers,
            content=json.dumps(response.body).encode(),
            request=request,
        )
