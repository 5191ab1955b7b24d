"""Serve the Wix sandbox over HTTP: ``manage.py wix_sandbox --port 8765 --seed demo``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, Faults, Sandbox, SandboxState
from wix_sandbox.seed import seed_demo
from wix_sandbox.server import make_server


class Command(BaseCommand):
    help = "Run the Wix sandbox as a standalone HTTP server on 127.0.0.1."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--site-id", default=DEFAULT_SITE_ID)
        parser.add_argument("--api-key", default=DEFAULT_API_KEY)
        parser.add_argument("--state", default="", help="SQLite file that keeps the state across restarts")
        parser.add_argument(
            "--seed", choices=["demo", "none"], default="none", help="Seed the demo swim club when empty"
        )
        parser.add_argument(
            "--faults", default="", help='e.g. "latency_ms=150,error_5xx_rate=0.1,rate_limit_per_minute=200"'
        )
        parser.add_argument("--app-id", default=None)
        parser.add_argument("--app-secret", default=None)
        parser.add_argument("--instance-id", default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            faults = Faults.parse(opts["faults"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        state = SandboxState(opts["state"] or None)
        sandbox = Sandbox(
            state=state,
            site_id=opts["site_id"],
            api_key=opts["api_key"],
            faults=faults,
            app_id=opts["app_id"],
            app_secret=opts["app_secret"],
            instance_id=opts["instance_id"],
        )
        if opts["seed"] == "demo":
            if state.is_empty():
                summary = seed_demo(sandbox)
                self.stdout.write(f"Seeded the demo swim club: {summary}")
            else:
                self.stdout.write("State already holds data; not seeding again.")
        try:
            server = make_server(sandbox, opts["port"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{opts['port']}: {exc}") from exc
        self.stdout.write(
            f"Wix sandbox listening on http://127.0.0.1:{opts['port']}\n"
            f"  wix-site-id:   {sandbox.site_id}\n"
            f"  Authorization: {sandbox.api_key}\n"
            "Press Ctrl-C to stop."
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            state.close()
