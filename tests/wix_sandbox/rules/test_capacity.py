"""The places bookings take (``rules/capacity.py``), as Time Slots asks for them."""

from __future__ import annotations

from tests.wix_sandbox.booking_builders import class_request, create
from wix_sandbox import Sandbox
from wix_sandbox.rules import capacity


def test_booked_participants_counts_confirmed_and_pending_bookings(sandbox: Sandbox, swim: dict) -> None:
    for status, n in (("CONFIRMED", 1), ("PENDING", 1), ("CREATED", 1)):
        create(sandbox, class_request(swim["service"], swim["event"], participants=n, status=status))

    assert capacity.booked_participants(sandbox, event_id=swim["event"]["id"]) == 2
    assert capacity.booked_participants(sandbox, event_id="another-event") == 0
