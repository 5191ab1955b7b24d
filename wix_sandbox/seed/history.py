"""What customers did: a season of class bookings, the course enrolment and spa appointments.

Everything here goes through the sandbox's own endpoints, at the moment it happened (the seed moves
the sandbox clock), so bookings, orders, payments and plan credits obey the rules the app will meet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from wix_sandbox.common import local_str
from wix_sandbox.seed.demo import Demo
from wix_sandbox.seed.payments import order_for, pay_online, pay_past_booking


def book_a_season_of_classes(demo: Demo) -> None:
    """35–70 swimmers at every past swim, 15–30 at every sunset swim, and 100 booked into today's swim."""
    st, rng, tz, contacts, at = demo.st, demo.rng, demo.tz, demo.contacts, demo.at
    try:
        for day, ev in sorted(demo.swim_events.items()):
            is_today = day == demo.today
            size = 100 if is_today else rng.randint(35, 70)
            for contact in rng.sample(contacts, size):
                _book_class(
                    demo,
                    ev,
                    demo.swim,
                    contact,
                    at(day, 6).replace(tzinfo=tz) - timedelta(hours=rng.randint(1, 72)),
                    today_class=is_today,
                )
        for day, ev in sorted(demo.sunset_events.items()):
            if day == demo.today:
                continue
            for contact in rng.sample(contacts, rng.randint(15, 30)):
                _book_class(demo, ev, demo.sunset, contact, at(day, 12).replace(tzinfo=tz), today_class=False)
    finally:
        st.set_clock(demo.real_clock)


def enrol_the_course(demo: Demo) -> None:
    """The course: ten enrolled before it started, most paid up front, two still owing."""
    st, rng, tz, api, course, counts = demo.st, demo.rng, demo.tz, demo.api, demo.course, demo.counts
    try:
        st.set_clock(lambda: demo.at(demo.course_days[0], 9).replace(tzinfo=tz) - timedelta(days=10))
        for contact in rng.sample(demo.contacts, 10):
            booking = api(
                "POST",
                "/_api/bookings-service/v2/bookings",
                {
                    "booking": {
                        "bookedEntity": {
                            "schedule": {
                                "scheduleId": course["schedule"]["id"],
                                "serviceId": course["id"],
                                "timezone": demo.sb.business_timezone,
                            }
                        },
                        "contactDetails": _contact_details(contact),
                        "totalParticipants": 1,
                        "selectedPaymentOption": "OFFLINE",
                        "status": "CONFIRMED",
                    }
                },
            )["booking"]
            counts["bookings"] += 1
            order_id = order_for(api, booking, "BACKOFFICE_MERCHANT", pay=False)
            if rng.random() < 0.8:
                pay_online(api, order_id)
                counts["paid"] += 1
            else:
                counts["unpaid"] += 1
    finally:
        st.set_clock(demo.real_clock)


def book_spa_appointments(demo: Demo) -> None:
    """Spa appointments: a few a day for the past two weeks and the coming week."""
    st, rng, tz, api, at, spa = demo.st, demo.rng, demo.tz, demo.api, demo.at, demo.spa
    try:
        spa_day = demo.today - timedelta(days=14)
        while spa_day <= demo.today + timedelta(days=7):
            if spa_day.weekday() < 6:
                for hour, svc, therapist in (
                    (10, demo.massage, demo.maya),
                    (14, demo.stone, demo.ravi),
                    (15, demo.massage, demo.maya),
                ):
                    if rng.random() < 0.3:
                        continue
                    contact = rng.choice(demo.contacts)
                    minutes = svc["schedule"]["availabilityConstraints"]["sessionDurations"][0]
                    start = at(spa_day, hour)
                    st.set_clock(lambda d=spa_day: at(d, 8).replace(tzinfo=tz) - timedelta(days=3))
                    booking = api(
                        "POST",
                        "/_api/bookings-service/v2/bookings",
                        {
                            "booking": {
                                "bookedEntity": {
                                    "slot": {
                                        "serviceId": svc["id"],
                                        "scheduleId": svc["schedule"]["id"],
                                        "startDate": local_str(start),
                                        "endDate": local_str(start + timedelta(minutes=minutes)),
                                        "timezone": demo.sb.business_timezone,
                                        "resource": {"id": therapist["resourceId"], "name": therapist["name"]},
                                        "location": {
                                            "id": spa["id"],
                                            "name": spa["name"],
                                            "locationType": "OWNER_BUSINESS",
                                        },
                                    }
                                },
                                "contactDetails": _contact_details(contact),
                                "totalParticipants": 1,
                                "selectedPaymentOption": "OFFLINE",
                                "status": "CONFIRMED",
                            }
                        },
                    )["booking"]
                    demo.counts["bookings"] += 1
                    if spa_day < demo.today:
                        pay_past_booking(api, rng, booking, contact, {}, demo.counts)
            spa_day += timedelta(days=1)
    finally:
        st.set_clock(demo.real_clock)


def _book_class(
    demo: Demo, ev: dict[str, Any], svc: dict[str, Any], contact: dict[str, Any], when: datetime, *, today_class: bool
) -> None:
    """One customer books one class at ``when``; a past class is paid (or not) and attended (mostly)."""
    st, rng, api, plan_holders, counts = demo.st, demo.rng, demo.api, demo.plan_holders, demo.counts
    st.set_clock(lambda: when)
    if contact["id"] in plan_holders:
        option = "MEMBERSHIP"
    elif today_class:
        option = "ONLINE" if rng.random() < 0.12 else "OFFLINE"
    else:
        option = rng.choice(["OFFLINE", "OFFLINE", "ONLINE"])
    booking = api(
        "POST",
        "/_api/bookings-service/v2/bookings",
        {
            "booking": {
                "bookedEntity": {"slot": {"serviceId": svc["id"], "eventId": ev["id"]}},
                "contactDetails": _contact_details(contact),
                "totalParticipants": 1,
                "selectedPaymentOption": option,
                "status": "CONFIRMED" if today_class else "CREATED",
            },
            "flowControlSettings": {"skipAvailabilityValidation": True},
        },
    )["booking"]
    counts["bookings"] += 1
    if today_class:
        # Today's class was booked online and is settled at the desk: plan holders have not
        # been charged yet; a few paid online; the rest chose "pay in person" (order NOT_PAID).
        if contact["id"] in plan_holders:
            counts["unpaid"] += 1
        elif option == "ONLINE":
            order_for(api, booking, "WEB")
            counts["paid"] += 1
        else:
            order_for(api, booking, "WEB", pay=False)
            counts["unpaid"] += 1
        return
    pay_past_booking(api, rng, booking, contact, plan_holders, counts)
    if rng.random() < 0.92:
        api(
            "POST",
            "/bookings/bookings-attendance/set",
            {
                "attendance": {
                    "bookingId": booking["id"],
                    "eventId": ev["id"],
                    "status": "ATTENDED",
                    "numberOfAttendees": 1,
                }
            },
        )
        counts["attended"] += 1


def _contact_details(contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "contactId": contact["id"],
        "firstName": contact["info"]["name"]["first"],
        "lastName": contact["info"]["name"]["last"],
        "email": contact["primaryInfo"]["email"],
    }
