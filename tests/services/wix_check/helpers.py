"""What the ``wix_check`` tests share: a client over the sandbox with some answers replaced, a
fake clock, and the marker for the tests that need the sandbox's Cart V2 and Refund Payments."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings
from django.utils import timezone

from bookings_app.services.wix_check import CheckReport, Clock, Status, WriteTarget, wix_check_run
from bookings_app.wix import WixClient
from bookings_app.wix.client import ApiKeyAuth
from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, Sandbox
from wix_sandbox.transport import SandboxTransport

BASE = "https://www.wixapis.com"

Rule = tuple[str, str, Callable[[str], bool] | None, Callable[[httpx.Request, Callable], httpx.Response]]


class Intercept(httpx.BaseTransport):
    """The sandbox transport, except where a rule answers: ``(method, path regex, test, answer)``.

    ``test(text)`` sees the path and the JSON body as one string; ``answer(request, forward)``
    returns the response, ``forward(request)`` asks the sandbox.
    """

    def __init__(self, sandbox: Sandbox, *rules: Rule) -> None:
        self.inner = SandboxTransport(sandbox)
        self.rules = list(rules)
        self.hits: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        text = request.url.path + " " + (request.content or b"").decode()
        for method, pattern, test, answer in self.rules:
            if request.method == method and re.search(pattern, request.url.path) and (test is None or test(text)):
                self.hits.append(f"{request.method} {request.url.path}")
                return answer(request, self.inner.handle_request)
        return self.inner.handle_request(request)


def forward_with(request: httpx.Request, forward: Callable, body: dict[str, Any]) -> httpx.Response:
    """Send ``request`` on to the sandbox with another JSON body."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return forward(httpx.Request(request.method, request.url, headers=headers, json=body))


def reply(status: int, body: dict[str, Any] | None = None) -> Callable[[httpx.Request, Callable], httpx.Response]:
    return lambda request, forward: httpx.Response(status, json=body or {}, request=request)


def app_error(status: int, code: str, data: dict[str, Any] | None = None) -> Callable:
    body = {"message": code, "details": {"applicationError": {"code": code, "description": code, "data": data or {}}}}
    return reply(status, body)


def client(sandbox: Sandbox, *rules: Rule, api_key: str = DEFAULT_API_KEY, site_id: str = DEFAULT_SITE_ID) -> WixClient:
    transport = Intercept(sandbox, *rules) if rules else SandboxTransport(sandbox)
    return WixClient(base_url=BASE, auth=ApiKeyAuth(api_key, site_id), transport=transport, max_retries=0)


class FakeClock(Clock):
    """A clock whose sleeps pass at once (and are counted)."""

    def __init__(self, wait_seconds: float = 20.0) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        super().__init__(sleep=self._sleep, monotonic=lambda: self.now, wait_seconds=wait_seconds, poll_seconds=1.0)

    def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def local_now() -> datetime:
    return timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE))


def run_check(wix: WixClient, *, write: WriteTarget | None = None, clock: Clock | None = None) -> CheckReport:
    return wix_check_run(
        wix=wix,
        target="the test sandbox",
        time_zone=settings.TIME_ZONE,
        now=local_now(),
        write=write,
        # Real time, short polls: a sandbox that settles a charge later is waited for (≤ 20 s).
        clock=clock or Clock(poll_seconds=0.1),
    )


def line(report: CheckReport, name: str, section: str | None = None):
    found = [c for c in report.checks if c.name == name and (section is None or c.section == section)]
    assert len(found) == 1, f"{name!r}: {found!r}"
    return found[0]


def not_ok(report: CheckReport) -> dict[str, Status]:
    return {c.name: c.status for c in report.checks if c.status != Status.OK}


def answers(report: CheckReport) -> dict[str, Any]:
    return {a.key: a.value for a in report.answers if a.key}
