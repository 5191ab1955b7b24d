"""The swim club's catalog: its two places, four staff members and seven services, written as entities."""

from __future__ import annotations

from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID
from wix_sandbox.seed.demo import Demo

STAFF_TYPE_ID = "1cd44cf8-756f-41c3-bd90-3e2ffcaf1155"


def add_places(demo: Demo) -> None:
    """The lakeside centre (swimming) and the boathouse spa."""
    demo.lake = demo.put(
        "locations", {"name": "Lakeside Centre", "formattedAddress": "1 Lake Road, Windermere LA23 1AA, UK"}
    )
    demo.spa = demo.put(
        "locations", {"name": "The Boathouse Spa", "formattedAddress": "3 Lake Road, Windermere LA23 1AA, UK"}
    )


def add_staff(demo: Demo) -> None:
    """A swim coach, a swimming teacher and two spa therapists, each with a staff resource."""
    demo.coach = _staff(demo, "Sam Rivers", "sam@lakesideswim.example")
    demo.teacher = _staff(demo, "Lena Fischer", "lena@lakesideswim.example")
    demo.maya = _staff(demo, "Maya Thompson", "maya@lakesideswim.example")
    demo.ravi = _staff(demo, "Ravi Patel", "ravi@lakesideswim.example")


def add_services(demo: Demo) -> None:
    """Two classes, an 8-week course and two spa appointments."""
    lake, spa = demo.lake, demo.spa
    demo.swim = _service(demo, "Open Water Swim", "CLASS", "12", 120, lake, [demo.coach], 60, True)
    demo.sunset = _service(demo, "Sunset Swim", "CLASS", "14", 100, lake, [demo.coach], 60, True)
    demo.course = _service(
        demo, "Learn to Swim Outdoors (8 weeks)", "COURSE", "160", 12, lake, [demo.teacher], 90, False
    )
    demo.massage = _service(demo, "Sports Massage", "APPOINTMENT", "55", 1, spa, [demo.maya, demo.ravi], 60, False)
    demo.stone = _service(
        demo, "Hot Stone Spa Treatment", "APPOINTMENT", "80", 1, spa, [demo.maya, demo.ravi], 90, False
    )


def add_spa_menu(demo: Demo) -> None:
    """Two short spa treatments that make a package with a massage (massage → facial → manicure,
    booked back to back at the front desk). The last step of the seed, so everything seeded before
    it keeps its ids."""
    spa = demo.spa
    _service(demo, "Express Facial", "APPOINTMENT", "40", 1, spa, [demo.maya, demo.ravi], 45, False)
    _service(demo, "Classic Manicure", "APPOINTMENT", "30", 1, spa, [demo.maya, demo.ravi], 30, False)


def _staff(demo: Demo, name: str, email: str) -> dict[str, Any]:
    st = demo.st
    resource = demo.put(
        "resources",
        {"name": name, "typeId": STAFF_TYPE_ID, "revision": "1", "eventsSchedule": {"id": st.new_id()}},
    )
    return demo.put(
        "staff_members",
        {
            "name": name,
            "email": email,
            "phone": "+44 15394 40" + str(demo.rng.randint(100, 999)),
            "resourceId": resource["id"],
            "resource": {"id": resource["id"], "eventsSchedule": resource["eventsSchedule"]},
            "revision": "1",
        },
    )


def _service(
    demo: Demo,
    name: str,
    type_: str,
    price: str,
    capacity: int,
    loc: dict[str, Any],
    staff_members: list[dict[str, Any]],
    minutes: int,
    plans: bool,
) -> dict[str, Any]:
    lake = demo.lake
    return demo.put(
        "services",
        {
            "appId": BOOKINGS_APP_ID,
            "type": type_,
            "name": name,
            "description": f"{name} at Lakeside Swim Club",
            "defaultCapacity": capacity,
            "hidden": False,
            "category": {
                "id": "5e1f0000-0000-4000-8000-00000000000" + ("1" if loc is lake else "2"),
                "name": "Swimming" if loc is lake else "Spa",
            },
            "payment": {
                "rateType": "FIXED",
                "fixed": {"price": {"value": price, "currency": demo.sb.currency}},
                "options": {"online": True, "inPerson": True, "deposit": False, "pricingPlan": plans},
                "pricingPlanIds": [],
            },
            "onlineBooking": {"enabled": True, "requireManualApproval": False, "allowMultipleRequests": False},
            "locations": [
                {
                    "id": loc["id"],
                    "type": "BUSINESS",
                    "business": {
                        "id": loc["id"],
                        "name": loc["name"],
                        "address": {"formattedAddress": loc["formattedAddress"]},
                    },
                }
            ],
            "schedule": {
                "id": demo.st.new_id(),
                "availabilityConstraints": {"sessionDurations": [minutes], "timeBetweenSessions": 0},
            },
            "staffMemberIds": [s["id"] for s in staff_members],
            "bookingPolicy": _booking_policy(type_),
            "revision": "1",
        },
    )


def _booking_policy(type_: str) -> dict[str, Any]:
    """The rules customers meet online (Services V2 BookingPolicy; UNCONFIRMED, CONTRACT.md §6 names
    the field only): swims cancel or move up to 2 hours ahead, the spa 24 hours ahead with its own
    words, the course not online at all. Booking limits stay off (the desk books any time)."""
    minutes = {"CLASS": 120, "APPOINTMENT": 1440}.get(type_)
    online = minutes is not None
    policy: dict[str, Any] = {
        "limitEarlyBookingPolicy": {"enabled": False, "earliestBookingInMinutes": 10080},
        "limitLateBookingPolicy": {"enabled": False, "latestBookingInMinutes": 1440},
        "bookAfterStartPolicy": {"enabled": False},
        "cancellationPolicy": {
            "enabled": online,
            "limitLatestCancellation": online,
            "latestCancellationInMinutes": minutes or 1440,
        },
        "reschedulePolicy": {
            "enabled": online,
            "limitLatestReschedule": online,
            "latestRescheduleInMinutes": minutes or 1440,
        },
        "waitlistPolicy": {"enabled": False, "capacity": 10, "reservationTimeInMinutes": 10},
        "customPolicyDescription": {"enabled": False, "description": ""},
    }
    if type_ == "APPOINTMENT":
        policy["customPolicyDescription"] = {
            "enabled": True,
            "description": "Please give us 24 hours' notice to cancel or move a treatment; later than that, "
            "the full price is due.",
        }
    return policy
