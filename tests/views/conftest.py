"""Fixtures of the desk's view tests: a frozen clock (``desk_clock``, which their modules use
throughout) and a class session at £12 an hour from ``NOW`` (a module may define its own)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bookings_app.models import Session
from tests import factories
from tests.views.desk_helpers import NOW


@pytest.fixture
def desk_clock(time_machine):
    """The desk tests' time stands still at ``NOW`` (their modules use it throughout)."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def session() -> Session:
    return factories.SessionFactory(
        start=NOW + timedelta(hours=1),
        title="Dawn swim",
        capacity=20,
        service__price=Decimal("12.00"),
        service__currency="GBP",
    )
