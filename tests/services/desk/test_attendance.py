"""Attendance end to end: check in everyone."""

from __future__ import annotations

import pytest

from bookings_app.models import DeskAction
from bookings_app.services import desk
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def test_check_in_everyone_is_one_bulk_call_per_eight(world: World, desk_user) -> None:
    people = [world.customer(f"P{i}") for i in range(10)]
    for person in people:
        world.online_booking(person, order=False)
    world.mirror()
    session = world.session()
    k = key()
    actions = desk.attendance_mark_all(user=desk_user, session=session, status="ATTENDED", idempotency_key=k)
    assert len(actions) == 10
    assert desk.attendance_mark_all(user=desk_user, session=session, status="ATTENDED", idempotency_key=k) == actions

    report = world.push()

    assert_all_synced()
    assert report.calls_by_operation == {"bulk_set_attendance": 2}
    assert sum(1 for a in world.sb.state.all("attendances") if a["status"] == "ATTENDED") == 10
