"""The sandbox as a standalone HTTP server on 127.0.0.1 (``manage.py wix_sandbox``)."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .app import Sandbox

log = logging.getLogger(__name__)


def make_server(sandbox: Sandbox, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "WixSandbox/1"

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            response = sandbox.handle(
                self.command,
                url.path,
                parse_qs(url.query, keep_blank_values=True),
                {k: v for k, v in self.headers.items()},
                raw,
            )
            if response.drop:
                # Injected timeout / lost response: hang up without answering.
                self.close_connection = True
                return
            payload = json.dumps(response.body).encode()
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("sandbox %s", format % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
