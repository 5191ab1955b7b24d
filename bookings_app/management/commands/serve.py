"""Start the web app (gunicorn) and the background worker together; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from bookings_app import roles


class Command(BaseCommand):
    help = "Run the web app and the django-tasks worker (the embedded default of `make run`)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **opts: Any) -> None:
        port = opts["port"]
        python = sys.executable
        web = [
            python,
            "-m",
            "gunicorn",
            "backoffice.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(opts["workers"]),
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ]
        worker = [python, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.5"]
        # Keep exactly one scheduled poll in the task queue (data never more than 2 minutes old).
        call_command("sync_wix", "--schedule")
        procs = [subprocess.Popen(web), subprocess.Popen(worker)]  # noqa: S603 - fixed argv
        time.sleep(1.0)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Front Desk is running at http://127.0.0.1:{port}/"))
        if settings.WIX.is_sandbox:
            self.stdout.write("Connected to the built-in Wix sandbox (demo swim club). Demo logins:")
            for username, password, role in roles.DEMO_USERS:
                self.stdout.write(f"  {role:<11} {username} / {password}")
        self.stdout.write("Press Ctrl-C to stop the web app and the worker.")
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        codes = [p.returncode for p in procs]
        if any(c not in (0, -signal.SIGTERM, None) for c in codes):
            raise SystemExit(f"a process exited with {codes}")
