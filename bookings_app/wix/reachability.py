"""Every HTTP attempt's outcome, told to whoever listens: does Wix answer?

The header used to learn that Wix was down only when a whole sync had failed — after every
retry of every call (minutes when Wix hangs: five attempts of a 20-second read timeout). This
transport sits under each client ``get_wix_client`` makes and reports each *attempt*: a
connection or timeout failure, or a 5xx, is "not answering"; any other answer (a 404 and a 429
included) is "answering". ``services.wix_reachability`` listens (connected in ``apps.py``) and
keeps the latest in the database for the header.

A listener's failure never disturbs the Wix call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import httpx

logger = logging.getLogger(__name__)

Listener = Callable[[bool, str], None]  # (answering, what happened, in words for the header)
# How an attempt that got no answer failed, in words staff can read.
NO_ANSWER = {
    httpx.ConnectError: "the connection was refused",
    httpx.ConnectTimeout: "connecting timed out",
    httpx.ReadTimeout: "no answer in time",
    httpx.WriteTimeout: "the request could not be sent in time",
    httpx.PoolTimeout: "too many calls waiting",
    httpx.RemoteProtocolError: "the connection broke",
}
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Call ``listener(answering, detail)`` after every HTTP attempt of every client (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _tell(answering: bool, detail: str) -> None:
    for listener in list(_listeners):
        try:
            listener(answering, detail)
        except Exception:  # noqa: BLE001 - noting reachability must never fail a Wix call
            logger.debug("Wix reachability listener failed", exc_info=True)


class ObservedTransport(httpx.BaseTransport):
    """Wraps the real transport (or the sandbox's) and reports each attempt's outcome."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError as exc:
            _tell(False, NO_ANSWER.get(type(exc), "no answer"))
            raise
        if response.status_code >= 500:
            _tell(False, f"it answered HTTP {response.status_code}")
        else:
            _tell(True, f"HTTP {response.status_code}")
        return response

    def close(self) -> None:
        self.inner.close()


def observed_transport(base_url: str) -> ObservedTransport:
    """The transport httpx would make by itself for ``base_url``, observed. Handing httpx a
    transport turns off its own reading of HTTPS_PROXY / NO_PROXY, so that is done here."""
    parts = urlsplit(base_url)
    proxies = getproxies()
    proxy = None
    if parts.hostname and not proxy_bypass(parts.hostname):
        proxy = proxies.get(parts.scheme) or proxies.get("all")
    return ObservedTransport(httpx.HTTPTransport(proxy=proxy))
