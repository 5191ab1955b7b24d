"""Sandbox fixtures the Bookings, Pricing Plans and rules tests share: a class session, an appointment
service, a course, a member with a plan to buy.

(Time Slots tests arrange their own ``swim`` and ``massage``: ``handlers/availability/conftest.py``.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.wix_sandbox.booking_builders import SESSION_START
from tests.wix_sandbox.builders import make_contact, make_event, make_member, make_service, make_staff
from tests.wix_sandbox.plan_builders import make_plan
from wix_sandbox import Sandbox


@pytest.fixture
def swim(sandbox: Sandbox) -> dict[str, Any]:
    """A class with one session for 3, taught by a staff member."""
    staff = make_staff(sandbox)
    service = make_service(sandbox, capacity=3, staff=[staff])
    event = make_event(sandbox, service, SESSION_START, staff=staff)
    return {"service": service, "event": event, "staff": staff}


@pytest.fixture
def massage(sandbox: Sandbox) -> dict[str, Any]:
    staff = make_staff(sandbox, "Morgan Therapist")
    service = make_service(sandbox, type="APPOINTMENT", name="Sports Massage", capacity=1, staff=[staff])
    return {"service": service, "staff": staff}


@pytest.fixture
def course(sandbox: Sandbox) -> dict[str, Any]:
    service = make_service(sandbox, type="COURSE", name="Learn to Swim", capacity=2)
    events = [make_event(sandbox, service, datetime(2026, 12, day, 18, 0)) for day in (8, 1, 15)]
    return {"service": service, "events": events}


@pytest.fixture
def desk(sandbox: Sandbox) -> dict[str, Any]:
    """A swim service, a member, a 10-session pass covering the service."""
    service = make_service(sandbox)
    member = make_member(sandbox, make_contact(sandbox))
    plan = make_plan(sandbox, "10 Swim Pass", 10, [service["id"]], "90")
    return {"service": service, "member": member, "plan": plan}
