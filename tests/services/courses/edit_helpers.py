"""Helpers of the running-course tests: a term built and pushed, people booked on the course."""

from __future__ import annotations

from typing import Any

from bookings_app.models import CourseBuild, Session
from bookings_app.wix import bookings, cart
from tests.services.courses.helpers import CourseWorld
from wix_sandbox import BOOKINGS_APP_ID


def running_course(cw: CourseWorld, *, weeks: int = 3) -> tuple[CourseBuild, list[Session]]:
    """A Tue/Thu 17:00–17:45 term of ``weeks`` weeks, built, pushed and in the mirror."""
    build = cw.commit(cw.term(weeks=weeks))
    cw.world.push()
    sessions = list(Session.objects.filter(service=cw.service()).order_by("start"))
    assert len(sessions) == 2 * weeks
    return build, sessions


def booked_online(cw: CourseWorld, first: str, *, order: bool = True) -> dict[str, Any]:
    """``first`` books the whole course on the website, to pay in person (``order``: NOT_PAID)."""
    person = cw.world.customer(first)
    booking = bookings.create_booking(
        cw.world.wix,
        booking={
            "bookedEntity": {"schedule": {"scheduleId": cw.course["schedule"]["id"], "serviceId": cw.course["id"]}},
            "contactDetails": {"contactId": person["contact"]["id"]},
            "totalParticipants": 1,
            "selectedPaymentOption": "OFFLINE",
            "status": "CONFIRMED",
        },
    )["booking"]
    if order:
        made = cart.create_cart(
            cw.world.wix,
            channel_type="WEB",
            catalog_items=[
                {"quantity": 1, "catalogReference": {"catalogItemId": booking["id"], "appId": BOOKINGS_APP_ID}}
            ],
            customer_info={
                "firstName": first,
                "lastName": "Swimmer",
                "email": person["contact"]["primaryInfo"]["email"],
            },
        )["cart"]
        cart.place_order(cw.world.wix, cart_id=made["id"])
    return booking


def event_in_wix(cw: CourseWorld, session: Session) -> dict[str, Any]:
    found = cw.sb.state.get("events", session.wix_id)
    assert found is not None
    return found
