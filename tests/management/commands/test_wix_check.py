"""``manage.py wix_check``: the report on stdout, exit code 1 when a check fails, the arguments."""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bookings_app.selectors import site_fact
from bookings_app.services.wix_check import Status
from bookings_app.services.wix_check.operations import PROBES
from bookings_app.services.wix_check.report import STATUS_WIDTH
from bookings_app.wix import WixConfig
from tests.services.conftest import build_world
from tests.wix_sandbox.builders import make_service
from wix_sandbox import DEFAULT_API_KEY, Sandbox, SandboxState
from wix_sandbox.server import make_server

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("wix_check", *args, stdout=out)
    except CommandError as err:
        return out.getvalue(), err
    return out.getvalue(), None


def statuses(out: str) -> dict[str, str]:
    """Check name → status, read off the printed report's check lines."""
    known = {status.value for status in Status}
    width = STATUS_WIDTH + 2
    return {
        row[2 + width :].split("  ")[0].strip(): row[2 : 2 + STATUS_WIDTH].strip()
        for row in out.splitlines()
        if row.startswith("  ") and row[2 : 2 + STATUS_WIDTH].strip() in known
    }


def test_the_read_only_check_prints_one_line_per_check_and_the_settled_questions() -> None:
    build_world()

    out, err = run()

    assert "Wix live-site check: the built-in Wix sandbox" in out
    assert "Mode: read-only" in out
    assert "\nAccess\n  OK " in out and "\nApps\n" in out and "\nOperations the app uses\n" in out
    assert "Open questions settled" in out and "[stored: unrouted_path_status = 404]" in out
    assert "run with --write to settle it" in out
    assert statuses(out)["Create Booking"] == "OK"
    assert {name: status for name, status in statuses(out).items() if status != "OK"} == {}
    assert err is None


def test_write_books_pays_and_undoes_then_exits_0() -> None:
    world = build_world()
    pat = world.customer("Pat", credits=3)

    out, err = run("--write", "--service", world.service["id"], "--member", pat["member"]["id"])

    assert err is None, out
    assert "Test booking (--write)" in out and "Undo (--write)" in out
    assert "Result: OK" in out
    assert site_fact("cart_channel", None) == "BACKOFFICE_MERCHANT"
    assert world.wix_credits(pat) == "3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--write"], "--write needs a test service and a test member"),
        (["--write", "--service", "Open Water Swim"], "--write needs a test service and a test member"),
        (["--member", "pat@example.com"], "--service and --member only go with --write"),
    ],
)
def test_write_needs_a_named_service_and_member(args: list[str], message: str) -> None:
    out, err = run(*args)

    assert err is not None and message in str(err)
    assert out == ""


# -- against the standalone sandbox server, through the real client (api_key mode) ----------------


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, Sandbox]]:
    sb = Sandbox(state=SandboxState(str(tmp_path / "standalone.sqlite3")))
    make_service(sb, type="CLASS", name="Over HTTP")
    httpd = make_server(sb, 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", sb
    finally:
        httpd.shutdown()
        httpd.server_close()


def _api_key_settings(settings, tmp_path, base_url: str, sb: Sandbox, api_key: str) -> None:
    settings.BASE_DIR = tmp_path  # the rate limiter's lock file
    settings.WIX = WixConfig(mode="api_key", base_url=base_url, api_key=api_key, site_id=sb.site_id, max_retries=0)


def test_against_the_standalone_server(server, settings, tmp_path) -> None:
    base_url, sb = server
    _api_key_settings(settings, tmp_path, base_url, sb, DEFAULT_API_KEY)

    out, err = run()

    assert f"site {sb.site_id} at {base_url} (API key)" in out
    assert "\nAccess\n  OK " in out
    assert DEFAULT_API_KEY not in out
    found = statuses(out)
    assert len(found) == 1 + 3 + len(PROBES)
    assert {name: status for name, status in found.items() if status != "OK"} == {}
    assert err is None


def test_a_wrong_api_key_says_so_and_exits_1(server, settings, tmp_path) -> None:
    base_url, sb = server
    _api_key_settings(settings, tmp_path, base_url, sb, "not-the-key")

    out, err = run()

    assert err is not None and err.returncode == 1
    assert "BAD KEY" in out and "WIX_API_KEY" in out
    assert "not-the-key" not in out
    assert "Stopped after the first call" in out


def test_a_wrong_site_id_says_so(server, settings, tmp_path) -> None:
    base_url, sb = server
    _api_key_settings(settings, tmp_path, base_url, sb, DEFAULT_API_KEY)
    settings.WIX = dataclasses.replace(settings.WIX, site_id="someone-elses-site")

    out, err = run()

    assert err is not None and err.returncode == 1
    assert "WRONG SITE ID" in out and "WIX_SITE_ID" in out
