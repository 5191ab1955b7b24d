"""Helpers of the desk service tests."""

from __future__ import annotations

from bookings_app.models import DeskAction
from tests.services.conftest import World

Status = DeskAction.Status


def assert_all_synced() -> None:
    left = list(DeskAction.objects.exclude(status=Status.SYNCED).values_list("kind", "status", "error_code", "message"))
    assert not left, left


def full_class(world: World, capacity: int) -> None:
    """Shrink tomorrow's class to ``capacity`` places in Wix (before the mirror reads it)."""
    with world.sb.state.transaction():
        event = world.sb.state.edit("events", world.event["id"])
        event["totalCapacity"] = capacity
        world.sb.state.put("events", event)
