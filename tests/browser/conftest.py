"""Browser fixtures: Debian's Chromium driven by Playwright (``executable_path``; no downloaded
browsers) against pytest-django's live server. Tests using them mark themselves
``@pytest.mark.browser`` and skip when /usr/bin/chromium is missing."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import factories

# Playwright's sync API runs an event loop in the test thread; the ORM calls made from it (and
# from the live server's thread) are still synchronous, so Django's async-safety guard would
# refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"
)


@pytest.fixture(autouse=True)
def live_server_closes_its_connections(monkeypatch) -> None:
    """One database connection per request in the live server, as Django's default: kept for
    CONN_MAX_AGE (the app's setting), each keep-alive thread of the server would hold one open
    after the test, and PostgreSQL then refused to drop the test database at the end of the run."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture(scope="module")
def desk_chromium() -> Iterator[object]:
    # Module scope: Playwright allows one sync driver at a time, and other browser modules
    # start their own.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tablet(desk_chromium, live_server) -> Iterator[object]:
    """A fresh tab at tablet landscape size (1280×800); fails the test on any JavaScript error.
    Confirm dialogs (hx-confirm) are accepted."""
    context = desk_chromium.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    context.close()
    close_db_connections()
    assert not errors, f"JavaScript errors: {errors}"


def close_db_connections() -> None:
    """Close this test's database connections while Playwright's event loop still runs: opened
    under it, they belong to its context, which the test database's own teardown never sees (left
    open, PostgreSQL refused to drop the test database at the end of the run)."""
    from django.db import connections

    connections.close_all()


@pytest.fixture
def admin_password() -> str:
    """The roles, and an Admin user "browser-admin" with this password."""
    password = "browser-admin-2026"
    call_command("setup_roles", stdout=io.StringIO())
    factories.UserFactory(username="browser-admin", password=password, roles=["Admin"])
    return password


@pytest.fixture
def desk_password() -> str:
    """The roles, and a Front desk user "browser-desk" with this password."""
    password = "browser-desk-2026"
    call_command("setup_roles", stdout=io.StringIO())
    factories.UserFactory(username="browser-desk", password=password, roles=["Front desk"])
    return password


def sign_in(page, *, username: str, password: str, next_path: str = "/today/") -> None:
    page.goto(next_path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"front-desk-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


SIZES = {"desk": (1366, 768), "tablet": (768, 1024)}


def shots(page, name: str) -> list[Path]:
    """The whole page at the desk and tablet sizes (``test-artifacts/<name>-desk.png``, …),
    back at the desk size after."""
    ARTIFACTS.mkdir(exist_ok=True)
    paths = []
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        path = ARTIFACTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size({"width": SIZES["desk"][0], "height": SIZES["desk"][1]})
    return paths
