"""Start the web app (gunicorn) and the background worker together; Ctrl-C, SIGTERM or SIGHUP to
serve stops both, and waits for them.

``make run`` uses it on the embedded default (127.0.0.1, the sandbox). In production,
``manage.py serve --production`` is the one command (README "Deploying"): it migrates, collects the
static files (served by whitenoise), writes the roles, then runs gunicorn on ``--bind`` (all
addresses by default) with ``--workers`` × ``--threads`` sized for the machine and
``--task-workers`` background workers. A worker that exits is started again (it takes up what it
left: ``bookings_app.workers``); the web app exiting stops everything, for the service manager to
restart.
"""

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

# What stops serve, and with it the web app and the worker: Ctrl-C, a service manager's SIGTERM,
# the terminal going away.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Command(BaseCommand):
    help = "Run the web app and the django-tasks worker (the embedded default of `make run`)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--bind",
            default=os.environ.get("WEB_BIND", ""),
            help="host:port (default 127.0.0.1:PORT; 0.0.0.0:PORT with --production)",
        )
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
        parser.add_argument("--task-workers", type=int, default=int(os.environ.get("TASK_WORKERS", "1")))
        parser.add_argument(
            "--production",
            action="store_true",
            help="Migrate, collect static files and write the roles first; listen on all addresses.",
        )
        parser.add_argument(
            "--stop-with-parent",
            action="store_true",
            help="Also stop when the process that started serve exits (make run: make passes no signal on).",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        port = opts["port"]
        bind = opts["bind"] or f"{'0.0.0.0' if opts['production'] else '127.0.0.1'}:{port}"  # noqa: S104
        python = sys.executable
        if opts["production"]:
            self._prepare()
        web = [
            python,
            "-m",
            "gunicorn",
            "backoffice.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(opts["workers"]),
            "--threads",
            str(opts["threads"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ]
        worker = [python, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.5"]
        parent = os.getppid()
        stop: list[int] = []  # the signal that asked us to stop, once one has
        # A signal only notes that it came: the loop below stops the children and waits for them.
        # Python's default would end serve at once and leave gunicorn and the worker running.
        previous = {sig: signal.signal(sig, lambda signum, _frame: stop.append(signum)) for sig in STOP_SIGNALS}
        procs: list[subprocess.Popen[bytes]] = []
        try:
            # Keep exactly one scheduled poll in the task queue (data never more than 2 minutes old).
            call_command("sync_wix", "--schedule")
            procs = [subprocess.Popen(web)]  # noqa: S603 - fixed argv
            procs += [subprocess.Popen(worker) for _ in range(max(opts["task_workers"], 1))]  # noqa: S603
            _wait(stop, seconds=1.0)
            if not stop:
                self._welcome(bind)
            while not stop and procs[0].poll() is None:
                if opts["stop_with_parent"] and os.getppid() != parent:
                    self.stdout.write("The process that started serve has gone: stopping.")
                    break
                for i, proc in enumerate(procs[1:], start=1):
                    if proc.poll() is not None and not stop:
                        # A worker that died (killed, out of memory) is started again; on start it
                        # takes up what it left (bookings_app.workers): nothing waits for a click.
                        self.stderr.write(f"The background worker exited ({proc.returncode}); starting it again.")
                        procs[i] = subprocess.Popen(worker)  # noqa: S603 - fixed argv
                _wait(stop, seconds=0.5)
        finally:
            _stop(procs)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        codes = [p.returncode for p in procs]
        if not stop and any(c not in (0, -signal.SIGTERM, None) for c in codes):
            raise SystemExit(f"a process exited with {codes}")

    def _prepare(self) -> None:
        """What a release needs before it serves: the database schema, the static files, the roles."""
        call_command("migrate", "--noinput", verbosity=1)
        call_command("collectstatic", "--noinput", verbosity=0)
        call_command("setup_roles")

    def _welcome(self, bind: str) -> None:
        host, _, port = bind.rpartition(":")
        shown = "127.0.0.1" if host in ("0.0.0.0", "", "[::]") else host  # noqa: S104
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Front Desk is running at http://{shown}:{port}/ (listening on {bind})"))
        if settings.WIX.is_sandbox:
            self.stdout.write("Connected to the built-in Wix sandbox (demo swim club). Demo logins:")
            for username, password, role in roles.DEMO_USERS:
                self.stdout.write(f"  {role:<11} {username} / {password}")
        self.stdout.write("Press Ctrl-C to stop the web app and the worker.")
        self.stdout.flush()


def _wait(stop: list[int], *, seconds: float) -> None:
    """Sleep ``seconds``, or less once a stop signal has come."""
    ends = time.monotonic() + seconds
    while not stop and time.monotonic() < ends:
        time.sleep(0.1)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every child still running (gunicorn and the worker finish what they are doing),
    then wait for each; one not gone in 10 s is killed."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
