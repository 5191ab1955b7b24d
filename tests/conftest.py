"""Shared fixtures. Tests never touch the internet: Wix is the in-process sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookings_app.wix.sandbox import Sandbox, SandboxState


@pytest.fixture
def sandbox_clock() -> list[datetime]:
    """The sandbox's "now"; change ``sandbox_clock[0]`` to move time."""
    return [datetime(2026, 11, 21, 9, 0, tzinfo=UTC)]


@pytest.fixture
def sandbox(sandbox_clock: list[datetime]) -> Sandbox:
    """A fresh, empty, in-memory sandbox with a fixed clock and seeded ids."""
    state = SandboxState(clock=lambda: sandbox_clock[0], seed=1234)
    return Sandbox(state=state)
