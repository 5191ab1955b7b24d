"""Requests straight through the WSGI application, as gunicorn calls it — what ``bench/pages.py``
times.

Django's test client wraps each request in test-only work that a server does not do, and some of
it outlives the request: it decorates the response with a ``partial`` pointing back at it (so the
response, and the view's whole context with it, is a reference cycle that only Python's cycle
collector frees), keeps a copy of each template's context, and re-connects a signal receiver
after every request with a ``weakref.finalize`` that never fires (two per request, kept for the
life of the process). The bench's process then carried every page's objects into the oldest
generation and grew by some 45,000 tracked objects over a run, and the full collections — which
walk them all — cost three to five times what they cost a server (owes printout: 20–70 ms each
through the test client, 5–15 ms through the WSGI application, the same page and database).

This client signs in once with the test client (for the session cookie), then calls the
application with a plain WSGI environ, reads the body and closes the response, as a server does:
the request signals, ``close_old_connections`` (``CONN_MAX_AGE``) and the connection health
check all run. The response it returns has what the bench's checks read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from django.test import Client, RequestFactory


@dataclass
class ServerResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes
    request: dict[str, str] = field(default_factory=dict)  # PATH_INFO, as the test client's has

    @property
    def streaming_content(self) -> Any:
        return iter((self.content,))  # already read whole, as a download reads it


class ServerClient:
    def __init__(self, user: Any) -> None:
        signed_in = Client()
        signed_in.force_login(user)
        self.cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in signed_in.cookies.items())
        self.factory = RequestFactory()
        self.application = importlib.import_module("backoffice.wsgi").application

    def get(
        self, path: str, data: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> ServerResponse:
        environ = self.factory.get(path, data, headers=headers, HTTP_COOKIE=self.cookie).environ
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started.append((status, response_headers))

        body = self.application(environ, start_response)
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        status, response_headers = started[0]
        return ServerResponse(
            status_code=int(status.split(" ", 1)[0]),
            headers=dict(response_headers),
            content=content,
            request={"PATH_INFO": environ["PATH_INFO"]},
        )
