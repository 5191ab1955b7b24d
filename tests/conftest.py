"""Shared fixtures. Tests never touch the internet: Wix is the in-process sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wix_sandbox import Sandbox, SandboxState


@pytest.fixture(autouse=True)
def wix_sandbox_in_memory(settings):
    """``get_wix_client()`` talks to a fresh in-memory sandbox in every test (never var/'s demo)."""
    import dataclasses

    from bookings_app import wix

    settings.WIX = dataclasses.replace(settings.WIX, mode="sandbox", sandbox_state="", sandbox_faults="")
    wix.clear_cached_state()
    yield
    wix.clear_cached_state()


@pytest.fixture(autouse=True)
def site_facts_fresh():
    """``selectors.site_fact`` caches for a few seconds: never carry a fact from one test to the next."""
    from bookings_app.selectors.site_facts import site_facts_forget

    site_facts_forget()
    yield
    site_facts_forget()


@pytest.fixture(autouse=True)
def desk_backlog_fresh(monkeypatch):
    """The header keeps its desk-backlog count for a few seconds; tests ask every time (a page's
    query count stays the same from one render to the next; ``tests/selectors/test_sync.py``
    tests the keeping)."""
    from bookings_app.selectors import desk_backlog_forget, sync

    monkeypatch.setattr(sync, "DESK_BACKLOG_CACHE_SECONDS", 0)
    monkeypatch.setattr(sync, "SYNC_STATUS_CACHE_SECONDS", 0)
    desk_backlog_forget()
    yield
    desk_backlog_forget()


@pytest.fixture(autouse=True)
def plans_for_sale_fresh():
    """The desk keeps Wix's plan list for a couple of minutes: never carry it from one test's
    sandbox to the next."""
    from bookings_app.services.plans import plans_forget

    plans_forget()
    yield
    plans_forget()


@pytest.fixture(autouse=True)
def drift_count_fresh():
    """The header's drift count is kept a minute: never carry it from one test's database to the next."""
    from bookings_app.selectors.drift import drift_forget

    drift_forget()
    yield
    drift_forget()


@pytest.fixture
def sandbox_clock() -> list[datetime]:
    """The sandbox's "now"; change ``sandbox_clock[0]`` to move time."""
    return [datetime(2026, 11, 21, 9, 0, tzinfo=UTC)]


@pytest.fixture
def sandbox(sandbox_clock: list[datetime]) -> Sandbox:
    """A fresh, empty, in-memory sandbox with a fixed clock and seeded ids."""
    state = SandboxState(clock=lambda: sandbox_clock[0], seed=1234)
    return Sandbox(state=state)


# --- staff, roles and signed-in clients (views) ------------------------------------------------


@pytest.fixture
def staff_roles(db: None) -> None:
    """The Front desk / Manager / Admin groups, as ``manage.py setup_roles`` writes them."""
    import io

    from django.core.management import call_command

    call_command("setup_roles", stdout=io.StringIO())


def _user_with_role(username: str, role: str | None):
    from tests.factories import UserFactory

    return UserFactory(username=username, roles=[role] if role else [])


@pytest.fixture
def desk_user(staff_roles: None):
    return _user_with_role("desk-user", "Front desk")


@pytest.fixture
def manager_user(staff_roles: None):
    return _user_with_role("manager-user", "Manager")


@pytest.fixture
def admin_user(staff_roles: None):
    return _user_with_role("admin-user", "Admin")


@pytest.fixture
def no_role_user(staff_roles: None):
    """Signed in, but in no group: every screen must answer 403."""
    return _user_with_role("no-role-user", None)


@pytest.fixture
def desk_client(client, desk_user):
    client.force_login(desk_user)
    return client


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client
