"""A scripted httpx transport and reply builders for the Wix client tests (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from bookings_app.wix.client import (
    ApiKeyAuth,
    WixClient,
)

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

    def acquire(self) -> float:
        self.calls += 1
        return 0.0


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
