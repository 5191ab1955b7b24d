"""``manage.py serve`` (what ``make run`` starts): the web app and the worker start together and
stop together — on SIGTERM or SIGINT to serve, and when ``make`` (which passes no signal on) is
gone. Real processes: serve, gunicorn and the db_worker on a throwaway SQLite database."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.processes import free_port

BASE_DIR = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")


@pytest.fixture(scope="module")
def serve_env(tmp_path_factory) -> dict[str, str]:
    """The environment of a serve run: its own migrated database and sandbox state."""
    tmp = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "WIX_SANDBOX_STATE": str(tmp / "sandbox.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )
    return env


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(children - found)
            found |= children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not read its status yet


def _wait_for_line(lines: queue.Queue[str], text: str, timeout: float = 60) -> None:
    ends = time.monotonic() + timeout
    seen = []
    while time.monotonic() < ends:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"no {text!r} in {seen}")


def _read_lines(stream) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def _gone(pids: set[int], timeout: float = 30) -> bool:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _kill(process: subprocess.Popen, children: set[int]) -> None:
    """Leave nothing running whatever the test found: what serve should have stopped, then it."""
    for pid in children | _descendants(process.pid):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    process.kill()
    process.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_serve_stops_the_web_app_and_the_worker_first(serve_env, sig):
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(free_port()), "--workers", "1"],
        cwd=BASE_DIR,
        env=serve_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    children: set[int] = set()
    try:
        _wait_for_line(_read_lines(serve.stdout), "Front Desk is running")
        children = _descendants(serve.pid)
        assert len(children) >= 3, children  # gunicorn, its worker, the db_worker

        serve.send_signal(sig)

        assert serve.wait(timeout=30) == 0
        assert _gone(children), [pid for pid in children if _alive(pid)]
    finally:
        _kill(serve, children)


def test_serve_stops_when_make_is_gone(serve_env):
    """``make run`` started serve and was sent SIGTERM: make dies without passing it on."""
    port = free_port()
    make = subprocess.Popen(  # stands in for make: starts serve as make run does, then just waits
        [
            sys.executable,
            "-c",
            "import subprocess, sys; subprocess.run(sys.argv[1:])",
            sys.executable,
            "manage.py",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--stop-with-parent",
        ],
        cwd=BASE_DIR,
        env=serve_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    everyone: set[int] = set()
    try:
        _wait_for_line(_read_lines(make.stdout), "Front Desk is running")
        everyone = _descendants(make.pid)
        assert len(everyone) >= 4, everyone  # serve, gunicorn, its worker, the db_worker

        make.send_signal(signal.SIGTERM)
        make.wait(timeout=10)

        assert _gone(everyone), [pid for pid in everyone if _alive(pid)]
    finally:
        _kill(make, everyone)


def test_make_run_starts_serve_to_stop_with_make():
    recipe = (BASE_DIR / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]

    assert "manage.py serve --port $(PORT) --stop-with-parent" in recipe


def _db_workers(pids: set[int]) -> set[int]:
    found = set()
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"db_worker" in cmdline and _alive(pid):
            found.add(pid)
    return found


def test_serve_production_prepares_a_fresh_database_answers_healthz_and_restarts_a_dead_worker(tmp_path):
    """The deploy command: a database nobody migrated, then the app on all addresses; /healthz/
    answers over plain HTTP; a background worker killed is started again by serve."""
    import urllib.request

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "WIX_SANDBOX_STATE": str(tmp_path / "sandbox.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    }
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--production", "--port", str(port), "--workers", "1", "--threads", "2"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    children: set[int] = set()
    try:
        lines = _read_lines(serve.stdout)
        _wait_for_line(lines, "Front Desk is running", timeout=120)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=10) as answer:  # noqa: S310
            assert answer.status == 200
            assert b'"database": {"ok": true' in answer.read()
        children = _descendants(serve.pid)
        [worker] = _db_workers(children)

        os.kill(worker, signal.SIGKILL)

        _wait_for_line(lines, "starting it again", timeout=30)
        ends = time.monotonic() + 30
        while time.monotonic() < ends and not (_db_workers(_descendants(serve.pid)) - {worker}):
            time.sleep(0.2)
        assert _db_workers(_descendants(serve.pid)) - {worker}
        children |= _descendants(serve.pid)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0
        assert _gone(children), [pid for pid in children if _alive(pid)]
    finally:
        _kill(serve, children)
