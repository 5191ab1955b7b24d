"""Real processes for the tests that kill things: a throwaway SQLite database, ``manage.py
db_worker`` subprocesses, and the standalone Wix sandbox (``manage.py wix_sandbox``) that can be
stopped and started again on the same port and state file — as Wix going away and coming back.

Used by the worker-crash test (``tests/management/commands/test_db_worker.py``), the outage drill
(``tests/test_outage_drill.py``), ``manage.py serve``'s test and the benches under ``bench/``
(which add the repository to ``sys.path`` and import this module before Django is set up: it
imports nothing of Django or the app).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

BASE_DIR = Path(__file__).resolve().parents[1]
SERVER_START_S = 60.0


def free_port() -> int:
    """A TCP port nothing listens on now (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of the app's processes on a database and a sandbox state file of their own
    under ``tmp_path`` — none of this shell's ``WIX_*``, ``DJANGO_*``, ``DESK_*`` or ``LOG_*`` —
    with ``extra`` on top, and the database migrated. Desk actions are due at once (no undo
    window) and the Wix rate budget never makes anyone wait."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIX_", "DJANGO_", "DESK_", "LOG_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WIX_SANDBOX_STATE=str(tmp_path / "sandbox.sqlite3"),
        WIX_RATE_LIMIT_PER_MINUTE="100000",
        DESK_UNDO_SECONDS="0",
        DJANGO_SETTINGS_MODULE="backoffice.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )
    return env


def worker_start(env: dict[str, str], worker_id: str, log: Path) -> subprocess.Popen[bytes]:
    """``manage.py db_worker`` on every queue, polling every 0.2 s, its output appended to ``log``."""
    argv = [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.2"]
    argv += ["--no-reload", "--no-startup-delay", "--worker-id", worker_id]
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def process_kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no clean-up of any kind, as the OOM killer or a pulled plug."""
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def process_stop(proc: subprocess.Popen[bytes], *, timeout: float = 60) -> None:
    """SIGTERM, as a process manager stops it; SIGKILL if it is still there after ``timeout``."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process_kill(proc)


def db_connect(env: dict[str, str]) -> sqlite3.Connection:
    """The processes' database, read from here (plain ``sqlite3``: this process has no Django
    connection to it)."""
    return sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"), timeout=30)


def desk_statuses(env: dict[str, str]) -> Counter[tuple[str, str]]:
    """How many desk actions there are of each (kind, status)."""
    with db_connect(env) as db:
        return Counter(db.execute("SELECT kind, status FROM bookings_app_deskaction").fetchall())


def wait_until(what: Callable[[], object], *, timeout: float, every: float = 0.1) -> bool:
    """Ask ``what()`` every ``every`` seconds until it is truthy (True) or ``timeout`` passed (False)."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if what():
            return True
        time.sleep(every)
    return False


class SandboxServer:
    """``manage.py wix_sandbox`` on 127.0.0.1 in a subprocess, with its state in ``state_path``.

    :meth:`stop` and :meth:`start` again serve the same state on the same port: to the app, Wix
    was gone and is back. :meth:`stop` is a SIGKILL unless ``clean``: calls in flight get no
    answer, and what a call had not committed is not in the state (each call is one SQLite
    transaction), as with a call Wix never received. A context manager: started on enter, stopped
    (cleanly) on exit."""

    def __init__(
        self, state_path: Path, log_path: Path, *, faults: str = "", seed: str = "none", port: int | None = None
    ) -> None:
        self.state_path = state_path
        self.log_path = log_path
        self.faults = faults
        self.seed = seed
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> SandboxServer:
        """Start serving; returns once the port accepts connections. Raises ``RuntimeError`` (with
        the end of the server's log) if it exits or does not listen within ``SERVER_START_S``."""
        cmd = [sys.executable, "manage.py", "wix_sandbox", "--port", str(self.port), "--faults", self.faults]
        cmd += ["--state", str(self.state_path), "--seed", self.seed]
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=BASE_DIR, stdout=self._log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"The sandbox server exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"The sandbox server did not listen within {SERVER_START_S:.0f} s: {self.log_tail()}")

    def stop(self, *, clean: bool = True) -> None:
        """Stop serving: SIGINT (the server closes its state file) or, not ``clean``, SIGKILL."""
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGINT if clean else signal.SIGKILL)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
